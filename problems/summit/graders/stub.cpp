// Stub for "summit": compiled together with the contestant's file. It talks to the manager over
// stdin/stdout (std_io). Do not write to stdout or read from stdin in your solution.
#include "summit.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace {

const long long SECRET_U2M = 0x5EC2E740;
const long long SECRET_M2U = 0x3A17C0D0;
const long long CODE_MASK = 0xF;

const int M2U_OK = 0;

const int U2M_QUERY = 0;
const int U2M_ANSWER = 1;
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

}  // namespace

int altitude(int i) {
    write_secret(U2M_QUERY);
    printf("%d\n", i);
    fflush(stdout);
    read_secret();
    return (int)read_value();
}

int main() {
    signal(SIGPIPE, SIG_IGN);
    atexit(on_unexpected_exit);
    at_quick_exit(on_unexpected_exit);

    for (;;) {
        read_secret();
        int n = (int)read_value();
        if (n == -1) break;
        int r = find_summit(n);
        write_secret(U2M_ANSWER);
        printf("%d\n", r);
        fflush(stdout);
    }
    fclose(stdout);
    leave(0);
}
