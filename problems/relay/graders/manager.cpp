// Manager for "relay" (Communication, 2 user processes, std_io).
//
//   manager <u0_to_m> <m_to_u0> <u1_to_m> <m_to_u1> < test.in
//
// User process 0 runs encode() for every scenario, then user process 1 runs decode() for every
// scenario (in a shuffled order). Prints the score in [0, 1] on the first line of stdout and a
// message on the first line of stderr, and exits 0 (non-zero only for broken test data).
//
// Wire protocol (text, whitespace separated integers), on each of the two channels:
//   manager -> user : SECRET_M2U|code, then the payload of the message
//   user -> manager : SECRET_U2M|code, then the payload of the message
// Anything else on a user's channel (a contestant writing to stdout, garbage, EOF because the
// user process died) is a protocol violation and scores 0. The manager never waits on a dead
// user process: its reads see EOF as soon as the user's end of the FIFO is closed.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

namespace {

const long long SECRET_U2M = 0x2C6B91A0;
const long long SECRET_M2U = 0x61D4E350;
const long long CODE_MASK = 0xF;

const int M2U_OK = 0;
const int M2U_DIE = 1;

const int U2M_BIT = 0;     // encoder: transmit(bit)
const int U2M_DONE = 1;    // encoder: encode() returned
const int U2M_RESULT = 2;  // decoder: decode() returned
const int U2M_PV_DECODER_TRANSMIT = 12;
const int U2M_PV_CALL_EXIT = 13;
const int U2M_PV_TAMPER = 14;
const int U2M_SILENT = 15;

const int MAX_BITS = 1000;         // hard limit on transmit() calls per scenario
const int SUB1_MAX_BITS = 24;      // subtask 1: at most this many bits
const int FULL_BITS = 62;          // subtask 2: full score with at most this many bits

// ---------------------------------------------------------------------------------------------
// Channel to one user process.

struct Channel {
    int rfd = -1;
    FILE* out = nullptr;
    char buf[1 << 16];
    int pos = 0, len = 0;
    bool eof = false;

    int get() {
        if (pos < len) return (unsigned char)buf[pos++];
        if (eof) return -1;
        for (;;) {
            // poll() first: on a FIFO whose writer has not connected yet a read() would report
            // EOF, while poll() waits for data or for a hang-up of a writer that did connect.
            struct pollfd p;
            p.fd = rfd;
            p.events = POLLIN;
            p.revents = 0;
            int r = poll(&p, 1, -1);
            if (r < 0) {
                if (errno == EINTR) continue;
                eof = true;
                return -1;
            }
            ssize_t n = read(rfd, buf, sizeof buf);
            if (n > 0) {
                len = (int)n;
                pos = 0;
                return (unsigned char)buf[pos++];
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            eof = true;
            return -1;
        }
    }

    // 1: ok, 0: EOF, -1: garbage
    int read_ll(long long& x) {
        int c = get();
        while (c == ' ' || c == '\n' || c == '\r' || c == '\t') c = get();
        if (c < 0) return 0;
        bool neg = false;
        if (c == '-') {
            neg = true;
            c = get();
        }
        if (c < '0' || c > '9') return -1;
        long long v = 0;
        int digits = 0;
        while (c >= '0' && c <= '9') {
            if (++digits > 18) return -1;
            v = v * 10 + (c - '0');
            c = get();
        }
        if (c >= 0 && c != ' ' && c != '\n' && c != '\r' && c != '\t') return -1;
        x = neg ? -v : v;
        return 1;
    }
};

const int NPROC = 2;
Channel chans[NPROC];
bool ended[NPROC] = {false, false};  // the final -1 has been sent to this process
int cur = 0;                         // the process being talked to

[[noreturn]] void judge_failure(const char* msg) {
    printf("0.0\n");
    fprintf(stderr, "Judge failure: %s\n", msg);
    fflush(stdout);
    fflush(stderr);
    exit(1);
}

[[noreturn]] void finish(double score, const std::string& msg);

// Opens the FIFO pair of one user process. The user side opens its stdin (our write FIFO) and
// its stdout (our read FIFO) in an order we do not control, so: first open our read end
// non-blocking (never blocks, and lets the user's open of its stdout succeed at once), then open
// our write end, retrying non-blocking until the user has its stdin open (with a deadline, so a
// user process that never starts cannot hang us).
void open_read_end(Channel& ch, const char* u2m_path) {
    ch.rfd = open(u2m_path, O_RDONLY | O_NONBLOCK);
    if (ch.rfd < 0) judge_failure("cannot open a user-to-manager FIFO");
}

void open_write_end(Channel& ch, const char* m2u_path, int idx) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int wfd = -1;
    long sleep_us = 200;
    for (;;) {
        wfd = open(m2u_path, O_WRONLY | O_NONBLOCK);
        if (wfd >= 0) break;
        if (errno != ENXIO && errno != EINTR) judge_failure("cannot open a manager-to-user FIFO");
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 60)
            finish(0.0, "Protocol violation: user process " + std::to_string(idx) +
                            " never opened its input");
        usleep(sleep_us);
        if (sleep_us < 10000) sleep_us *= 2;
    }
    int fl = fcntl(wfd, F_GETFL);
    fcntl(wfd, F_SETFL, fl & ~O_NONBLOCK);
    ch.out = fdopen(wfd, "w");
    if (!ch.out) judge_failure("fdopen failed");
}

void send_secret(int code) {
    if (chans[cur].out) fprintf(chans[cur].out, "%lld\n", SECRET_M2U | code);
}

void flush_user() {
    if (chans[cur].out) fflush(chans[cur].out);  // errors (EPIPE: user is gone) are ignored
}

[[noreturn]] void finish(double score, const std::string& msg) {
    for (int i = 0; i < NPROC; i++) {
        if (chans[i].out && !ended[i]) {  // tell a user process still waiting to leave quietly
            cur = i;
            send_secret(M2U_DIE);
            flush_user();
        }
    }
    printf("%.6f\n", score);
    fprintf(stderr, "%s\n", msg.c_str());
    fflush(stdout);
    fflush(stderr);
    exit(0);
}

[[noreturn]] void protocol_violation(const std::string& why) {
    finish(0.0, "Protocol violation: " + why);
}

std::string who() { return cur == 0 ? "the encoder (process 0)" : "the decoder (process 1)"; }

long long read_value() {
    long long x = 0;
    int r = chans[cur].read_ll(x);
    if (r == 0) protocol_violation(who() + " closed its output (it terminated or crashed)");
    if (r < 0) protocol_violation("unexpected output from " + who());
    return x;
}

int read_secret() {
    long long s = read_value();
    if ((s & ~CODE_MASK) != SECRET_U2M) protocol_violation("unexpected output from " + who());
    int code = (int)(s & CODE_MASK);
    switch (code) {
        case U2M_BIT:
        case U2M_DONE:
            if (cur != 0) protocol_violation("unexpected message from " + who());
            return code;
        case U2M_RESULT:
            if (cur != 1) protocol_violation("unexpected message from " + who());
            return code;
        case U2M_PV_DECODER_TRANSMIT:
            protocol_violation(who() + " called transmit()");
        case U2M_PV_CALL_EXIT:
            protocol_violation(who() + " called exit()");
        case U2M_PV_TAMPER:
            protocol_violation(who() + " tampered with its input");
        case U2M_SILENT:
            protocol_violation(who() + " stopped unexpectedly");
        default:
            protocol_violation("unknown message code from " + who());
    }
}

// ---------------------------------------------------------------------------------------------
// Test data.

long long read_input(long long lo, long long hi) {
    long long x;
    if (scanf("%lld", &x) != 1) judge_failure("cannot read the test input");
    if (x < lo || x > hi) judge_failure("test input out of range");
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc < 1 + 2 * NPROC) {
        fprintf(stderr, "usage: %s <u0_to_m> <m_to_u0> <u1_to_m> <m_to_u1> < input\n", argv[0]);
        return 1;
    }

    int subtask = (int)read_input(0, 2);
    int T = (int)read_input(1, 100);
    std::vector<std::vector<int>> P(T);
    for (int t = 0; t < T; t++) {
        int n = (int)read_input(1, 20);
        std::vector<bool> seen(n, false);
        for (int i = 0; i < n; i++) {
            int v = (int)read_input(0, n - 1);
            if (seen[v]) judge_failure("test input is not a permutation");
            seen[v] = true;
            P[t].push_back(v);
        }
        if (subtask == 1 && n > 8) judge_failure("subtask 1 has N <= 8");
    }

    for (int i = 0; i < NPROC; i++) open_read_end(chans[i], argv[1 + 2 * i]);
    for (int i = 0; i < NPROC; i++) open_write_end(chans[i], argv[2 + 2 * i], i);

    // Encoder.
    cur = 0;
    std::vector<std::vector<int>> bits(T);
    int max_bits = 0;
    for (int t = 0; t < T; t++) {
        int n = (int)P[t].size();
        send_secret(M2U_OK);
        fprintf(chans[0].out, "%d\n", n);
        for (int i = 0; i < n; i++) fprintf(chans[0].out, "%d%c", P[t][i], i + 1 < n ? ' ' : '\n');
        flush_user();
        for (;;) {
            int code = read_secret();
            if (code == U2M_DONE) break;
            long long b = read_value();
            if ((int)bits[t].size() >= MAX_BITS) protocol_violation("too many calls to transmit()");
            if (b != 0 && b != 1) protocol_violation("invalid argument to transmit()");
            bits[t].push_back((int)b);
            send_secret(M2U_OK);
            flush_user();
        }
        if ((int)bits[t].size() > max_bits) max_bits = (int)bits[t].size();
    }
    send_secret(M2U_OK);
    fprintf(chans[0].out, "-1\n");
    flush_user();
    ended[0] = true;

    // Decoder, in a shuffled (but fixed) order.
    std::vector<int> order(T);
    for (int t = 0; t < T; t++) order[t] = t;
    unsigned long long st = 0x9E3779B97F4A7C15ULL ^ (unsigned long long)T;
    for (int i = T - 1; i > 0; i--) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((st >> 33) % (unsigned long long)(i + 1));
        std::swap(order[i], order[j]);
    }
    cur = 1;
    for (int t : order) {
        int n = (int)P[t].size();
        int L = (int)bits[t].size();
        send_secret(M2U_OK);
        fprintf(chans[1].out, "%d\n%d\n", n, L);
        for (int i = 0; i < L; i++) fprintf(chans[1].out, "%d%c", bits[t][i], i + 1 < L ? ' ' : '\n');
        flush_user();
        read_secret();
        long long k = read_value();
        std::string scen = "scenario " + std::to_string(t + 1);
        if (k != n)
            finish(0.0, "Wrong answer: " + scen + ": decode() returned " + std::to_string(k) +
                            " values instead of " + std::to_string(n));
        for (int i = 0; i < n; i++) {
            long long v = read_value();
            if (v != P[t][i]) finish(0.0, "Wrong answer: " + scen + ": wrong permutation decoded");
        }
    }
    send_secret(M2U_OK);
    fprintf(chans[1].out, "-1\n");
    flush_user();
    ended[1] = true;

    std::string used = "at most " + std::to_string(max_bits) + " bits per scenario";
    if (subtask == 1) {
        if (max_bits <= SUB1_MAX_BITS) finish(1.0, "Correct: " + used);
        finish(0.0, "Wrong answer: more than " + std::to_string(SUB1_MAX_BITS) + " bits: " + used);
    }
    if (max_bits <= FULL_BITS) finish(1.0, "Correct: " + used);
    double score = 1.0 - (max_bits - FULL_BITS) / 50.0;
    if (score < 0.2) score = 0.2;
    finish(score, "Partially correct: " + used);
}
