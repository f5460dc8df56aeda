// Stub for "relay": compiled together with the contestant's file. The same executable runs twice:
// with last argument 0 it is the encoder, with 1 the decoder. It talks to the manager over
// stdin/stdout (std_io). Do not write to stdout or read from stdin in your solution.
#include "relay.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

const long long SECRET_U2M = 0x2C6B91A0;
const long long SECRET_M2U = 0x61D4E350;
const long long CODE_MASK = 0xF;

const int M2U_OK = 0;

const int U2M_BIT = 0;
const int U2M_DONE = 1;
const int U2M_RESULT = 2;
const int U2M_PV_DECODER_TRANSMIT = 12;
const int U2M_PV_CALL_EXIT = 13;
const int U2M_PV_TAMPER = 14;
const int U2M_SILENT = 15;

bool leaving_ok = false;

[[noreturn]] void leave(int code) {
    leaving_ok = true;
    exit(code);
}

void write_secret(int code) { printf("%lld\n", SECRET_U2M | code); }

// Leaves at once (also when called from the atexit handler): the manager decides the verdict.
[[noreturn]] void die(int code) {
    leaving_ok = true;
    if (code != U2M_SILENT) write_secret(code);
    fflush(stdout);
    _exit(0);
}

long long read_value() {
    long long x;
    if (scanf("%lld", &x) != 1) {
        fprintf(stderr, "stub: cannot read from the manager\n");
        fflush(stderr);
        leaving_ok = true;
        _exit(3);
    }
    return x;
}

void read_secret() {
    long long s = read_value();
    if ((s & ~CODE_MASK) != SECRET_M2U) die(U2M_PV_TAMPER);
    if ((s & CODE_MASK) != M2U_OK) die(U2M_SILENT);
}

void on_unexpected_exit() {
    if (!leaving_ok) die(U2M_PV_CALL_EXIT);
}

bool is_encoder = false;

void run_encoder() {
    for (;;) {
        read_secret();
        int n = (int)read_value();
        if (n == -1) break;
        std::vector<int> p(n);
        for (int i = 0; i < n; i++) p[i] = (int)read_value();
        encode(n, p);
        write_secret(U2M_DONE);
        fflush(stdout);
    }
}

void run_decoder() {
    for (;;) {
        read_secret();
        int n = (int)read_value();
        if (n == -1) break;
        int len = (int)read_value();
        std::vector<int> bits(len);
        for (int i = 0; i < len; i++) bits[i] = (int)read_value();
        std::vector<int> r = decode(n, bits);
        write_secret(U2M_RESULT);
        printf("%d\n", (int)r.size());
        for (size_t i = 0; i < r.size(); i++) printf("%d%c", r[i], i + 1 < r.size() ? ' ' : '\n');
        fflush(stdout);
    }
}

}  // namespace

void transmit(int bit) {
    if (!is_encoder) die(U2M_PV_DECODER_TRANSMIT);  // only the encoder may transmit
    write_secret(U2M_BIT);
    printf("%d\n", bit);
    fflush(stdout);
    read_secret();
}

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    atexit(on_unexpected_exit);
    at_quick_exit(on_unexpected_exit);

    std::string id = argc >= 2 ? argv[argc - 1] : "";
    if (id == "0") {
        is_encoder = true;
        run_encoder();
    } else if (id == "1") {
        run_decoder();
    } else {
        fprintf(stderr, "stub: invalid process index '%s'\n", id.c_str());
        leave(1);
    }
    fclose(stdout);
    leave(0);
}
