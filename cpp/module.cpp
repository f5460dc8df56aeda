// pybind11 bindings: ioi_box._native. Conversion between Python dicts and the C++ structs of
// launcher.hpp / compare.hpp, GIL handling and Ctrl-C; no logic of its own.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "compare.hpp"
#include "launcher.hpp"

namespace py = pybind11;

namespace {

const std::set<std::string> kSpecKeys = {
    "argv", "env", "cwd", "stdin", "stdout", "stderr", "cpu_limit_s", "wall_limit_s", "memory_limit_bytes",
    "fsize_bytes", "nofile", "nproc", "uid", "gid", "use_cgroup",
    "new_netns", "userns_netns", "reaper", "extra_fds", "hold_setup", "box"};
const std::set<std::string> kBoxKeys = {"binds", "box_tmpfs", "tmp_bytes", "seccomp"};



// str or os.PathLike -> str; anything else is a TypeError naming the key.
std::string as_path(const py::handle& v, const char* key) {
    if (py::isinstance<py::str>(v)) return v.cast<std::string>();
    try {
        py::object p = py::module_::import("os").attr("fspath")(v);
        if (py::isinstance<py::str>(p)) return p.cast<std::string>();
    } catch (const py::error_already_set&) {
    }
    throw py::type_error(std::string("spec['") + key + "'] must be a str path or None");
}

std::optional<std::string> opt_path(const py::dict& d, const char* key) {
    if (!d.contains(key) || d[key].is_none()) return std::nullopt;
    return as_path(d[key], key);
}

template <typename T>
T num(const py::dict& d, const char* key, T dflt) {
    if (!d.contains(key) || d[key].is_none()) return dflt;
    try {
        return d[key].cast<T>();
    } catch (const py::cast_error&) {
        throw py::type_error(std::string("spec['") + key + "'] has the wrong type");
    }
}

ioi::Box to_box(const py::handle& h, size_t index) {
    const std::string where = "spec " + std::to_string(index) + ": box";
    if (!py::isinstance<py::dict>(h)) throw py::type_error(where + " is not a dict");
    py::dict d = py::reinterpret_borrow<py::dict>(h);
    for (auto item : d) {
        std::string k = py::str(item.first);
        if (!kBoxKeys.count(k)) throw py::value_error(where + ": unknown key '" + k + "'");
    }
    ioi::Box b;
    b.enabled = true;
    if (d.contains("binds") && !d["binds"].is_none()) {
        for (auto t : py::reinterpret_borrow<py::sequence>(d["binds"])) {
            auto seq = py::reinterpret_borrow<py::sequence>(t);
            if (seq.size() != 3) throw py::value_error(where + ": a bind is (host path, inside path, writable)");
            b.binds.push_back(ioi::BoxBind{as_path(seq[0], "box"), as_path(seq[1], "box"), seq[2].cast<bool>()});
        }
    }
    b.box_tmpfs = num<bool>(d, "box_tmpfs", true);
    b.tmp_bytes = num<int64_t>(d, "tmp_bytes", 0);
    if (d.contains("seccomp") && !d["seccomp"].is_none()) b.seccomp = d["seccomp"].cast<std::string>();
    for (auto& bind : b.binds)
        if (bind.src.find('\0') != std::string::npos || bind.dst.find('\0') != std::string::npos)
            throw py::value_error(where + ": a path contains a NUL byte");
    return b;
}

ioi::Spec to_spec(const py::handle& h, size_t index) {
    if (!py::isinstance<py::dict>(h)) throw py::type_error("spec " + std::to_string(index) + " is not a dict");
    py::dict d = py::reinterpret_borrow<py::dict>(h);
    for (auto item : d) {
        std::string k = py::str(item.first);
        if (!kSpecKeys.count(k)) throw py::value_error("spec " + std::to_string(index) + ": unknown key '" + k + "'");
    }
    ioi::Spec s;
    if (!d.contains("argv")) throw py::value_error("spec " + std::to_string(index) + ": 'argv' is required");
    for (auto a : py::reinterpret_borrow<py::sequence>(d["argv"])) s.argv.push_back(as_path(a, "argv"));
    if (s.argv.empty()) throw py::value_error("spec " + std::to_string(index) + ": 'argv' is empty");
    if (d.contains("env") && !d["env"].is_none())
        for (auto e : py::reinterpret_borrow<py::sequence>(d["env"])) s.env.push_back(e.cast<std::string>());
    if (d.contains("extra_fds") && !d["extra_fds"].is_none())
        for (auto e : py::reinterpret_borrow<py::sequence>(d["extra_fds"])) s.extra_fds.push_back(as_path(e, "extra_fds"));
    for (auto& str : s.argv)
        if (str.find('\0') != std::string::npos) throw py::value_error("argv contains a NUL byte");
    for (auto& str : s.env)
        if (str.find('\0') != std::string::npos) throw py::value_error("env contains a NUL byte");
    s.cwd = opt_path(d, "cwd");
    s.stdin_path = opt_path(d, "stdin");
    s.stdout_path = opt_path(d, "stdout");
    s.stderr_path = opt_path(d, "stderr");
    s.cpu_limit_s = num<double>(d, "cpu_limit_s", 0);
    s.wall_limit_s = num<double>(d, "wall_limit_s", 0);
    s.memory_limit_bytes = num<int64_t>(d, "memory_limit_bytes", 0);
    s.fsize_bytes = num<int64_t>(d, "fsize_bytes", 0);
    s.nofile = num<int64_t>(d, "nofile", 0);
    s.nproc = num<int64_t>(d, "nproc", 0);
    s.uid = num<int64_t>(d, "uid", -1);
    s.gid = num<int64_t>(d, "gid", -1);
    s.use_cgroup = num<bool>(d, "use_cgroup", true);
    s.new_netns = num<bool>(d, "new_netns", false);
    s.userns_netns = num<bool>(d, "userns_netns", false);
    s.reaper = num<bool>(d, "reaper", false);
    s.hold_setup = num<bool>(d, "hold_setup", false);
    if (d.contains("box") && !d["box"].is_none()) s.box = to_box(d["box"], index);
    if (s.cpu_limit_s < 0 || s.wall_limit_s < 0 || s.memory_limit_bytes < 0 || s.fsize_bytes < 0 || s.nofile < 0 ||
        s.nproc < 0)
        throw py::value_error("spec " + std::to_string(index) + ": limits must be >= 0");
    return s;
}

py::object opt_int(const std::optional<int>& v) { return v ? py::object(py::int_(*v)) : py::object(py::none()); }

py::dict to_dict(const ioi::Result& r) {
    py::dict d;
    d["exit_code"] = opt_int(r.exit_code);
    d["signal"] = opt_int(r.signal);
    d["cpu_s"] = r.cpu_s;
    d["setup_cpu_s"] = r.setup_cpu_s;
    d["user_s"] = r.user_s;
    d["sys_s"] = r.sys_s;
    d["wall_s"] = r.wall_s;
    d["wait_s"] = r.wait_s;
    d["memory_bytes"] = r.memory_bytes;
    d["oom_killed"] = r.oom_killed;
    d["cpu_limit_hit"] = r.cpu_limit_hit;
    d["wall_limit_hit"] = r.wall_limit_hit;
    d["setup_error"] = r.setup_error ? py::object(py::str(*r.setup_error)) : py::object(py::none());
    return d;
}

py::dict info_dict(const ioi::CgroupInfo& info) {
    py::dict d, paths;
    d["version"] = info.version;
    d["memory"] = info.memory;
    d["cpu"] = info.cpu;
    d["pids"] = info.pids;
    for (auto& [k, v] : info.paths) paths[py::str(k)] = v;
    d["paths"] = paths;
    d["reason"] = info.reason;
    return d;
}

}  // namespace

PYBIND11_MODULE(_native, m) {
    m.doc() = R"doc(Native core of ioi-eval: a process launcher with cgroup-based limits, and streaming
output comparators (the same code as the standalone checkers in checkers/).)doc";
    m.attr("MAX_WAIT_FACTOR") = ioi::kMaxWaitFactor;

    m.def(
        "cgroup_setup",
        [](const std::string& name) {
            ioi::CgroupInfo info;
            {
                py::gil_scoped_release nogil;
                info = ioi::cgroup_setup(name.empty() ? "ioi-eval-" + std::to_string(getpid()) : name);
            }
            return info_dict(info);
        },
        py::arg("name") = "",
        R"doc(Detect cgroups and create this process's parent group ``name`` (default ``ioi-eval-<pid>``).

The group is created under our own cgroup of each usable controller (v1: memory, cpuacct, pids;
v2: one delegated subtree with memory, cpu and pids enabled, moving our cgroup's processes into a
``harness`` leaf first when the no-internal-process rule requires it). Harnesses that share a
machine pass a name unique to them (``ioi_box.ownership``: ``ioi-eval-<token>``, owned through a
lock file); a pid is not unique across pid namespaces. Nothing else is removed here: the groups of
dead harnesses go through cgroup_remove(). Idempotent: later calls in the same process return the
first result (whatever the name).

Returns ``{"version": 1|2|0, "memory": bool, "cpu": bool, "pids": bool,
"paths": {"memory"|"cpu"|"pids": parent_dir}, "reason": str}``; version 0 means no usable cgroups
and ``reason`` says why (it also lists controllers that could not be used when version != 0).)doc");

    m.def(
        "cgroup_remove",
        [](const std::string& name) {
            py::gil_scoped_release nogil;
            return ioi::cgroup_remove(name);
        },
        py::arg("name"),
        R"doc(Remove the group ``name`` beside each of this process's parent groups (killing anything inside):
the groups of a harness found dead (its lock file unheld, ``ioi_box.ownership``). Needs cgroup_setup()
first; returns how many groups were removed.)doc");

    m.def(
        "cgroup_cleanup",
        []() {
            py::gil_scoped_release nogil;
            ioi::cgroup_cleanup();
        },
        R"doc(Kill anything left in the groups made by cgroup_setup() and remove them. Registered with atexit;
safe to call more than once. A later cgroup_setup() starts afresh.)doc");

    m.def(
        "run",
        [](const py::list& specs, double poll_interval_s) {
            std::vector<ioi::Spec> cs;
            cs.reserve(specs.size());
            size_t i = 0;
            for (auto h : specs) cs.push_back(to_spec(h, i++));
            bool interrupted = false;
            std::vector<ioi::Result> results;
            {
                py::gil_scoped_release nogil;
                results = ioi::run(
                    cs, poll_interval_s,
                    []() {
                        // Briefly take the GIL back so Python signal handlers (Ctrl-C) can run.
                        py::gil_scoped_acquire gil;
                        return PyErr_CheckSignals() != 0;
                    },
                    &interrupted);
            }
            if (interrupted) throw py::error_already_set();  // the exception PyErr_CheckSignals set
            py::list out;
            for (auto& r : results) out.append(to_dict(r));
            return out;
        },
        py::arg("specs"), py::arg("poll_interval_s") = 0.005,
        R"doc(Run process trees concurrently under limits and wait for all of them.

Each spec is a dict; only ``argv`` is required:

* ``argv`` (list[str], argv[0] is executed as is: no PATH search), ``env`` (list of "K=V": the
  exact environment, nothing inherited), ``cwd`` (str | None)
* ``stdin`` / ``stdout`` / ``stderr``: path or None (/dev/null), opened in the child (so FIFOs do
  not block the launcher); stdout/stderr are truncated/created 0644; the same path for both shares
  one open file
* ``cpu_limit_s`` (CPU of the whole tree, polled every ``poll_interval_s``; RLIMIT_CPU backstop),
  ``wall_limit_s`` (with a CPU limit too, extended by the tree's run-queue wait, or the largest
  among the specs of this call, at most ``MAX_WAIT_FACTOR`` times the limit: time runnable but not
  scheduled on a loaded machine does not count; sleeping does),
  ``memory_limit_bytes`` (memory cgroup, else RLIMIT_AS), ``fsize_bytes``
  (RLIMIT_FSIZE), ``nofile`` (RLIMIT_NOFILE), ``nproc`` (pids.max; RLIMIT_NPROC too when the uid
  is dropped to a non-root uid); 0 = no limit. The stack is unlimited, core dumps are off.
* ``uid`` / ``gid`` (-1 = keep): dropped with setgroups/setresgid/setresuid before exec
* ``use_cgroup`` (default True): put the run in its own child group of cgroup_setup()'s groups
* ``hold_setup`` (default False): the child gets a pipe at fd 3 + len(extra_fds) for bubblewrap's
  ``--block-fd``; the tree's CPU until the sandbox blocks there (its setup) is left out of ``cpu_s``
  and the CPU limit, and reported as ``setup_cpu_s``

Returns one dict per spec: ``exit_code`` (int|None), ``signal`` (int|None), ``cpu_s`` (whole tree
with a CPU cgroup, else the reaped child's rusage; less ``setup_cpu_s``), ``user_s``, ``sys_s`` (rusage of the main process
and the children it waited for), ``wall_s`` (float seconds), ``wait_s`` (run-queue wait of the
tree's tasks, from /proc/<tid>/schedstat sampled while it ran: a lower bound), ``memory_bytes`` (peak of the memory
cgroup; without one: ru_maxrss when it exceeds the launcher's own RSS, the floor Linux starts it
at, else the direct child's VmHWM sampled while it ran, a lower bound that may be 0 for a very
short run),
``oom_killed``, ``cpu_limit_hit``, ``wall_limit_hit`` (bool), ``setup_error`` (str|None: the run
could not be started; exit_code and signal are then None).

The GIL is released while waiting; a pending signal exception (KeyboardInterrupt) kills and
reaps every tree, removes their groups and is then raised.)doc");

    m.def(
        "ns_setup",
        [](const std::vector<std::pair<std::string, std::string>>& system,
           const std::optional<std::tuple<long, long, long>>& userns) {
            py::gil_scoped_release nogil;
            return ioi::ns_setup(system, userns);
        },
        py::arg("system"), py::arg("userns") = py::none(),
        R"doc(Build the zygote sandbox's template once per process; returns "" or why it cannot be used.

``system`` lists the box's system paths as ``(path, "")`` (the host folder bound read-only) or
``(path, target)`` (a symlink). Needs root with CAP_SYS_ADMIN; or, with ``userns=(inside_root, first, count)``,
root with CAP_SETUID and CAP_SETGID only (a judge container): every namespace of the box is then made inside one
user namespace whose root is the unprivileged host uid ``inside_root`` and which maps the run uids
``[first, first + count)`` to themselves. Later calls return the first outcome.
A spec then asks for the zygote with ``box``: ``{"binds": [(host, inside, writable), ...],
"box_tmpfs": bool, "tmp_bytes": int, "seccomp": bytes}``: fresh pid and IPC namespaces, a network
namespace of its own (made ahead by a thread of the launcher, never used twice; loopback down), a fresh read-only root with those system paths, /dev, /proc,
tmpfs /tmp and /box (of ``tmp_bytes``; /box unless ``box_tmpfs`` is false), the binds in order,
the seccomp filter loaded before execve. The box's init reaps the tree, so ``cpu_s`` and
``memory_bytes`` cover every process even without cgroups; ``setup_cpu_s`` is its setup.)doc");

    m.def(
        "compare",
        [](const std::string& kind, const std::string& expected_path, const std::string& output_path, double abs_tol,
           double rel_tol) {
            if (!ioi::is_compare_kind(kind))
                throw py::value_error("unknown comparator '" + kind +
                                      "' (white_diff, tokens, floats, yes_no, unordered_lines)");
            ioi::CompareResult r;
            int err = 0;
            std::string msg, path;
            {
                py::gil_scoped_release nogil;
                try {
                    r = ioi::compare(kind, expected_path, output_path, abs_tol, rel_tol);
                } catch (const ioi::CompareIOError& e) {
                    err = e.err();
                    msg = e.what();
                    path = e.path();
                }
            }
            if (err) {
                // OSError(errno, ...) picks the subclass (FileNotFoundError, IsADirectoryError, ...).
                py::object exc = py::handle(PyExc_OSError)(err, std::string(std::strerror(err)), path);
                PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
                throw py::error_already_set();
            }
            return py::make_tuple(r.ok, r.message);
        },
        py::arg("kind"), py::arg("expected_path"), py::arg("output_path"), py::arg("abs_tol") = 1e-6,
        py::arg("rel_tol") = 1e-6,
        R"doc(Compare a contestant's output with the expected output; returns ``(ok, message)``.

Kinds: ``white_diff`` (CMS white-diff: lines compared with whitespace runs collapsed and the ends
stripped; trailing blank lines ignored), ``tokens`` (whitespace-separated tokens equal),
``floats`` (tokens; numbers match within ``abs_tol`` or ``rel_tol`` * |expected|), ``yes_no``
(tokens, case-insensitive), ``unordered_lines`` (multiset of white_diff-normalised non-blank lines).
Streams both files in constant memory (except unordered_lines). An unreadable output is a wrong
answer; an unreadable expected file raises OSError; an unknown kind raises ValueError.)doc");

    m.def("_set_fallbacks", &ioi::set_fallbacks, py::arg("no_pidfd") = false, py::arg("no_vfork") = false,
          "Test hook: force WNOHANG polling instead of pidfds and/or fork() instead of the vfork-style "
          "clone, process-wide, to exercise the fallback paths. Not for production use.");

    // Leave no groups behind on a normal interpreter exit.
    m.add_object("_atexit_registered",
                 py::module_::import("atexit").attr("register")(py::cpp_function([]() {
                     py::gil_scoped_release nogil;
                     ioi::cgroup_cleanup();
                 })));
}
