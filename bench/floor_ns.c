/* The kernel's floor of a sandboxed run, without ioi-eval: what a fresh namespace set and a fresh cgroup per
 * run cost on this machine over a bare fork/exec (bench/bench_sandbox.py builds and runs it; issue 13).
 *
 *   floor_ns VARIANT RUNS PROGRAM [STDIN]
 *
 * VARIANT: bare (fork + exec + wait4); ns (the child unshares pid, mount, ipc and uts namespaces and forks the
 * program as pid 1 of the new pid namespace); ns+net (also a new network namespace: its loopback is made by the
 * kernel); ns+net+cg (also a fresh cgroup in each v1 controller ioi-eval uses, memory, cpuacct and pids, the
 * program attached before exec, the groups removed after the wait); ns+cg (namespaces and cgroups, no network
 * namespace: the judge makes those ahead, off the run's path). Prints one wall time per run in microseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *CONTROLLERS[] = {"memory", "cpuacct", "pids"};

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what) {
    perror(what);
    _exit(127);
}

static void write_pid(const char *dir, pid_t pid) {
    char path[512], buf[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int fd = open(path, O_WRONLY);
    if (fd < 0) die(path);
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    if (write(fd, buf, n) != n) die("write cgroup.procs");
    close(fd);
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: floor_ns bare|ns|ns+net|ns+net+cg RUNS PROGRAM [STDIN]\n");
        return 2;
    }
    const char *variant = argv[1];
    int runs = atoi(argv[2]);
    char *prog = argv[3];
    const char *input = argc == 5 ? argv[4] : "/dev/null";
    int ns = strncmp(variant, "ns", 2) == 0, net = strstr(variant, "net") != NULL, cg = strstr(variant, "cg") != NULL;
    for (int r = 0; r < runs; r++) {
        char dirs[3][128];
        double t0 = now_us();
        if (cg)
            for (int i = 0; i < 3; i++) {
                snprintf(dirs[i], sizeof dirs[i], "/sys/fs/cgroup/%s/floor-ns-%d-%d", CONTROLLERS[i], (int)getpid(), r);
                if (mkdir(dirs[i], 0700) != 0) die(dirs[i]);
            }
        pid_t child = fork();
        if (child < 0) die("fork");
        if (child == 0) {
            if (cg)
                for (int i = 0; i < 3; i++) write_pid(dirs[i], getpid());
            if (ns) {
                int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (net ? CLONE_NEWNET : 0);
                if (unshare(flags) != 0) die("unshare");
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("mount private");
                pid_t init = fork();  /* pid 1 of the new pid namespace */
                if (init < 0) die("fork init");
                if (init > 0) {
                    int st;
                    waitpid(init, &st, 0);
                    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128);
                }
            }
            int in = open(input, O_RDONLY), null = open("/dev/null", O_WRONLY);
            if (in < 0 || null < 0) die(input);
            dup2(in, 0);
            dup2(null, 1);
            execl(prog, prog, (char *)NULL);
            die("exec");
        }
        int st;
        if (waitpid(child, &st, 0) != child) die("waitpid");
        if (cg)
            for (int i = 0; i < 3; i++)
                while (rmdir(dirs[i]) != 0 && errno == EBUSY) usleep(10);
        double t1 = now_us();
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "run %d failed (status %d)\n", r, st);
            return 1;
        }
        printf("%.1f\n", t1 - t0);
    }
    return 0;
}
