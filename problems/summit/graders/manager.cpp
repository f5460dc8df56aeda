// Manager for "summit" (Communication, 1 user process, std_io).
//
//   manager <user_to_manager_fifo> <manager_to_user_fifo> < test.in
//
// Prints the score in [0, 1] on the first line of stdout and a message on the first line of
// stderr, and exits 0. A non-zero exit code means broken test data or a broken judge setup.
//
// Wire protocol (text, whitespace separated integers):
//   manager -> user : SECRET_M2U|code, then the payload of the message
//   user -> manager : SECRET_U2M|code, then the payload of the message
// Anything else on the user's channel (a contestant writing to stdout, garbage, EOF because the
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

const long long SECRET_U2M = 0x5EC2E740;
const long long SECRET_M2U = 0x3A17C0D0;
const long long CODE_MASK = 0xF;

const int M2U_OK = 0;
const int M2U_DIE = 1;

const int U2M_QUERY = 0;
const int U2M_ANSWER = 1;
const int U2M_PV_CALL_EXIT = 13;
const int U2M_PV_TAMPER = 14;
const int U2M_SILENT = 15;

const int MAX_CALLS = 300;   // hard limit on altitude() calls per scenario
const int FULL_CALLS = 36;   // subtask 2: full score with at most this many calls

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

Channel* chan = nullptr;
bool protocol_ended = false;  // the final -1 has been sent

[[noreturn]] void judge_failure(const char* msg) {
    printf("0.0\n");
    fprintf(stderr, "Judge failure: %s\n", msg);
    fflush(stdout);
    fflush(stderr);
    exit(1);
}

// Opens the FIFO pair of one user process. The user side opens its stdin (our write FIFO) and
// its stdout (our read FIFO) in an order we do not control, so: first open our read end
// non-blocking (never blocks, and lets the user's open of its stdout succeed at once), then open
// our write end, retrying non-blocking until the user has its stdin open (with a deadline, so a
// user process that never starts cannot hang us).
void open_channel(Channel& ch, const char* u2m_path, const char* m2u_path) {
    ch.rfd = open(u2m_path, O_RDONLY | O_NONBLOCK);
    if (ch.rfd < 0) judge_failure("cannot open the user-to-manager FIFO");
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int wfd = -1;
    long sleep_us = 200;
    for (;;) {
        wfd = open(m2u_path, O_WRONLY | O_NONBLOCK);
        if (wfd >= 0) break;
        if (errno != ENXIO && errno != EINTR) judge_failure("cannot open the manager-to-user FIFO");
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 60) {
            printf("0.0\n");
            fprintf(stderr, "Protocol violation: the user process never opened its input\n");
            exit(0);
        }
        usleep(sleep_us);
        if (sleep_us < 10000) sleep_us *= 2;
    }
    int fl = fcntl(wfd, F_GETFL);
    fcntl(wfd, F_SETFL, fl & ~O_NONBLOCK);
    ch.out = fdopen(wfd, "w");
    if (!ch.out) judge_failure("fdopen failed");
}

void send_secret(int code) {
    if (!chan || !chan->out) return;
    fprintf(chan->out, "%lld\n", SECRET_M2U | code);
}

void flush_user() {
    if (chan && chan->out) fflush(chan->out);  // errors (EPIPE: user is gone) are ignored
}

[[noreturn]] void finish(double score, const std::string& msg) {
    if (!protocol_ended) {  // tell a user process that may still be waiting to leave quietly
        send_secret(M2U_DIE);
        flush_user();
    }
    printf("%.6f\n", score);
    fprintf(stderr, "%s\n", msg.c_str());
    fflush(stdout);
    fflush(stderr);
    exit(0);
}

[[noreturn]] void protocol_violation(const std::string& why) { finish(0.0, "Protocol violation: " + why); }

long long read_value() {
    long long x = 0;
    int r = chan->read_ll(x);
    if (r == 0) protocol_violation("the user process closed its output (it terminated or crashed)");
    if (r < 0) protocol_violation("unexpected output from the user process");
    return x;
}

int read_secret() {
    long long s = read_value();
    if ((s & ~CODE_MASK) != SECRET_U2M) protocol_violation("unexpected output from the user process");
    int code = (int)(s & CODE_MASK);
    switch (code) {
        case U2M_QUERY:
        case U2M_ANSWER:
            return code;
        case U2M_PV_CALL_EXIT:
            protocol_violation("the user program called exit()");
        case U2M_PV_TAMPER:
            protocol_violation("the user program tampered with its input");
        case U2M_SILENT:
            protocol_violation("the user program stopped unexpectedly");
        default:
            protocol_violation("unknown message code from the user process");
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

std::vector<int> make_profile(int n, int s, unsigned seed) {
    unsigned long long st = seed * 2654435761ULL + 12345;
    auto rnd = [&]() {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        return (unsigned)(st >> 33);
    };
    std::vector<int> h(n);
    h[s] = 1000000000;
    for (int i = s - 1; i >= 0; i--) h[i] = h[i + 1] - 1 - (int)(rnd() % 5);
    for (int i = s + 1; i < n; i++) h[i] = h[i - 1] - 1 - (int)(rnd() % 5);
    return h;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc < 3) {
        fprintf(stderr, "usage: %s <user_to_manager_fifo> <manager_to_user_fifo> < input\n", argv[0]);
        return 1;
    }

    int subtask = (int)read_input(0, 2);
    int T = (int)read_input(1, 100);
    std::vector<int> N(T), S(T);
    std::vector<unsigned> seed(T);
    for (int t = 0; t < T; t++) {
        N[t] = (int)read_input(1, 100000);
        S[t] = (int)read_input(0, N[t] - 1);
        seed[t] = (unsigned)read_input(0, 1000000000);
    }

    static Channel ch;
    chan = &ch;
    open_channel(ch, argv[1], argv[2]);

    int max_calls = 0;
    for (int t = 0; t < T; t++) {
        std::vector<int> h = make_profile(N[t], S[t], seed[t]);
        send_secret(M2U_OK);
        fprintf(ch.out, "%d\n", N[t]);
        flush_user();

        int calls = 0;
        for (;;) {
            int code = read_secret();
            if (code == U2M_QUERY) {
                long long i = read_value();
                if (++calls > MAX_CALLS) protocol_violation("too many calls to altitude()");
                if (i < 0 || i >= N[t]) protocol_violation("invalid argument to altitude()");
                send_secret(M2U_OK);
                fprintf(ch.out, "%d\n", h[i]);
                flush_user();
            } else {
                long long r = read_value();
                if (r != S[t])
                    finish(0.0, "Wrong answer: scenario " + std::to_string(t + 1) + ": returned " +
                                    std::to_string(r) + ", the summit is at " + std::to_string(S[t]));
                break;
            }
        }
        if (calls > max_calls) max_calls = calls;
    }
    send_secret(M2U_OK);
    fprintf(ch.out, "-1\n");
    flush_user();
    protocol_ended = true;

    std::string used = "at most " + std::to_string(max_calls) + " calls to altitude() per scenario";
    if (subtask != 2 || max_calls <= FULL_CALLS) finish(1.0, "Correct: " + used);
    double score = 1.0 - (max_calls - FULL_CALLS) / 50.0;
    if (score < 0.25) score = 0.25;
    finish(score, "Partially correct: " + used);
}
