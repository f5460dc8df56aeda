// Streaming output comparators. See compare.hpp.
#include "compare.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace ioi {
namespace {

constexpr int END_OF_FILE = -1;
constexpr int END_OF_LINE = -2;

// Read error inside a comparison; `output` tells whose fault it is.
struct ReadFailure {
    bool output;
    int err;
    std::string path;
};

// Whitespace as CMS's white-diff defines it (Python's bytes.strip() set).
inline bool is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Buffered byte reader over a file descriptor: fixed 64 KiB buffer whatever the file size.
class Reader {
public:
    Reader(const std::string& path, bool output) : path_(path), output_(output), buf_(new char[kSize]) {
        do {
            fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        } while (fd_ < 0 && errno == EINTR);
        if (fd_ < 0) throw ReadFailure{output_, errno, path_};
    }
    ~Reader() {
        if (fd_ >= 0) ::close(fd_);
    }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    int get() {
        if (pos_ == len_ && !fill()) return END_OF_FILE;
        return static_cast<unsigned char>(buf_[pos_++]);
    }
    int peek() {
        if (pos_ == len_ && !fill()) return END_OF_FILE;
        return static_cast<unsigned char>(buf_[pos_]);
    }

private:
    static constexpr size_t kSize = 1 << 16;
    bool fill() {
        if (eof_) return false;
        for (;;) {
            ssize_t n = ::read(fd_, buf_.get(), kSize);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw ReadFailure{output_, errno, path_};  // e.g. EISDIR
            pos_ = 0;
            len_ = size_t(n);
            if (n == 0) eof_ = true;
            return n > 0;
        }
    }
    std::string path_;
    bool output_;
    std::unique_ptr<char[]> buf_;
    int fd_ = -1;
    size_t pos_ = 0, len_ = 0;
    bool eof_ = false;
};

// A line as CMS white-diff sees it (text up to '\n'), canonicalised on the fly: whitespace runs
// become one space, leading/trailing whitespace disappears. next() yields its characters, then
// END_OF_LINE. One character of look-ahead replaces buffering the line.
class CanonLine {
public:
    explicit CanonLine(Reader& r) : r_(r) {}
    // False when the file has no more lines (a final line without '\n' still counts as one).
    bool start() {
        pending_space_ = emitted_ = false;
        held_ = -1;
        return r_.peek() != END_OF_FILE;
    }
    int next() {
        if (held_ >= 0) {
            int c = held_;
            held_ = -1;
            return c;
        }
        for (;;) {
            int c = r_.get();
            if (c == END_OF_FILE || c == '\n') return END_OF_LINE;
            if (is_ws(c)) {
                pending_space_ = emitted_;  // only between two non-blank characters
                continue;
            }
            emitted_ = true;
            if (pending_space_) {
                pending_space_ = false;
                held_ = c;
                return ' ';
            }
            return c;
        }
    }
    // Rest of the current line, canonical (unordered_lines keeps lines in memory anyway).
    std::string rest() {
        std::string s;
        for (int c; (c = next()) != END_OF_LINE;) s.push_back(char(c));
        return s;
    }

private:
    Reader& r_;
    bool pending_space_ = false, emitted_ = false;
    int held_ = -1;
};

// Whitespace-separated tokens, delivered in chunks of at most kChunk bytes so that a token of
// any length is compared in constant memory. Equal tokens are always chunked identically.
class Tokens {
public:
    static constexpr size_t kChunk = 4096;
    explicit Tokens(Reader& r) : r_(r) {}
    // First chunk of the next token; false at end of file. `more`: the token continues.
    bool next(std::string& chunk, bool& more) {
        int c;
        while ((c = r_.peek()) != END_OF_FILE && is_ws(c)) {
            if (c == '\n') line_++;
            r_.get();
        }
        if (c == END_OF_FILE) return false;
        token_line_ = line_;
        return cont(chunk, more);
    }
    bool cont(std::string& chunk, bool& more) {
        chunk.clear();
        int c;
        while (chunk.size() < kChunk && (c = r_.peek()) != END_OF_FILE && !is_ws(c)) chunk.push_back(char(r_.get()));
        c = r_.peek();
        more = c != END_OF_FILE && !is_ws(c);
        return true;
    }
    size_t token_line() const { return token_line_; }

private:
    Reader& r_;
    size_t line_ = 1, token_line_ = 1;
};

// Printable excerpt of a token for messages.
std::string excerpt(const std::string& s, bool more) {
    std::string out;
    for (char ch : s) {
        if (out.size() >= 40) {
            more = true;
            break;
        }
        unsigned char c = static_cast<unsigned char>(ch);
        out.push_back(c >= 32 && c < 127 ? char(c) : '?');
    }
    return "'" + out + (more ? "...'" : "'");
}

CompareResult correct() { return {true, "Output is correct"}; }
CompareResult wrong(std::string m) { return {false, std::move(m)}; }

CompareResult white_diff(Reader& expected, Reader& output) {
    CanonLine e(expected), o(output);
    for (size_t line = 1;; line++) {
        bool he = e.start(), ho = o.start();
        if (!he && !ho) return correct();
        if (!he || !ho) {
            // One file is over: the other may only go on with blank lines.
            CanonLine& rest = he ? e : o;
            if (rest.next() != END_OF_LINE)
                return wrong(he ? "output too short: line " + std::to_string(line) + " missing"
                                : "extra output at line " + std::to_string(line));
            continue;
        }
        for (;;) {
            int a = e.next(), b = o.next();
            if (a != b) return wrong("line " + std::to_string(line) + " differs");
            if (a == END_OF_LINE) break;
        }
    }
}

bool ieq(char a, char b) {
    auto lo = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return lo(a) == lo(b);
}

// A decimal number, or inf/infinity/nan, with an optional sign. Stricter than strtod on purpose:
// hexadecimal floats ("0x10") and "nan(...)" are not numbers in contest output.
bool parse_float(const std::string& t, double& out) {
    size_t i = 0, n = t.size();
    if (i < n && (t[i] == '+' || t[i] == '-')) i++;
    std::string word;
    for (size_t k = i; k < n; k++) word.push_back(char(std::tolower(static_cast<unsigned char>(t[k]))));
    bool special = word == "inf" || word == "infinity" || word == "nan";
    if (!special) {
        size_t digits = 0;
        while (i < n && std::isdigit(static_cast<unsigned char>(t[i]))) i++, digits++;
        if (i < n && t[i] == '.') {
            i++;
            while (i < n && std::isdigit(static_cast<unsigned char>(t[i]))) i++, digits++;
        }
        if (!digits) return false;
        if (i < n && (t[i] == 'e' || t[i] == 'E')) {
            i++;
            if (i < n && (t[i] == '+' || t[i] == '-')) i++;
            size_t ed = 0;
            while (i < n && std::isdigit(static_cast<unsigned char>(t[i]))) i++, ed++;
            if (!ed) return false;
        }
        if (i != n) return false;
    }
    errno = 0;
    char* end = nullptr;
    out = std::strtod(t.c_str(), &end);  // ERANGE still yields inf / 0, which is what we want
    return end == t.c_str() + t.size();
}

// |a-b| within the absolute or the relative (to the expected value) tolerance. A few ulps of
// slack absorb the rounding of the subtraction itself, so 1.000001 vs 1 passes abs_tol=1e-6.
bool floats_match(double e, double o, double abs_tol, double rel_tol) {
    if (std::isnan(e) || std::isnan(o)) return std::isnan(e) && std::isnan(o);
    if (std::isinf(e) || std::isinf(o)) return e == o;
    double d = std::fabs(e - o);
    double slack = 4 * DBL_EPSILON * std::max(std::fabs(e), std::fabs(o));
    return d <= abs_tol + slack || d <= rel_tol * std::fabs(e) + slack;
}

enum class TokMode { exact, nocase, floats, floats_nocase };

CompareResult compare_tokens(Reader& expected, Reader& output, TokMode mode, double abs_tol, double rel_tol) {
    Tokens e(expected), o(output);
    std::string a, b;
    bool am = false, bm = false;
    for (size_t n = 1;; n++) {
        bool he = e.next(a, am), ho = o.next(b, bm);
        if (!he && !ho) return correct();
        if (!he) return wrong("extra output: token " + std::to_string(n) + " " + excerpt(b, bm) + " on line " +
                              std::to_string(o.token_line()));
        if (!ho) return wrong("output too short: expected token " + std::to_string(n) + " " + excerpt(a, am));
        auto differs = [&]() {
            return wrong("token " + std::to_string(n) + " on line " + std::to_string(o.token_line()) +
                         " differs: expected " + excerpt(a, am) + ", got " + excerpt(b, bm));
        };
        if ((mode == TokMode::floats || mode == TokMode::floats_nocase) && !am && !bm) {
            double x, y;
            if (parse_float(a, x)) {
                if (!parse_float(b, y) || !floats_match(x, y, abs_tol, rel_tol)) return differs();
                continue;
            }
        }
        // String comparison, chunk by chunk.
        for (;;) {
            bool same = a.size() == b.size() &&
                        (mode == TokMode::nocase || mode == TokMode::floats_nocase
                             ? std::equal(a.begin(), a.end(), b.begin(), ieq)
                             : a == b);
            if (!same || am != bm) return differs();
            if (!am) break;
            e.cont(a, am);
            o.cont(b, bm);
        }
    }
}

CompareResult unordered_lines(Reader& expected, Reader& output) {
    auto load = [](Reader& r) {
        std::vector<std::string> lines;
        CanonLine l(r);
        while (l.start()) {
            std::string s = l.rest();
            if (!s.empty()) lines.push_back(std::move(s));
        }
        std::sort(lines.begin(), lines.end());
        return lines;
    };
    std::vector<std::string> e = load(expected), o = load(output);
    // Walk both sorted lists to name one line that is in one multiset and not the other.
    size_t i = 0, j = 0;
    while (i < e.size() || j < o.size()) {
        if (i < e.size() && j < o.size() && e[i] == o[j]) {
            i++, j++;
        } else if (j == o.size() || (i < e.size() && e[i] < o[j])) {
            return wrong("expected line " + excerpt(e[i], false) + " missing from output (" + std::to_string(e.size()) +
                         " expected lines, " + std::to_string(o.size()) + " output lines)");
        } else {
            return wrong("unexpected output line " + excerpt(o[j], false) + " (" + std::to_string(e.size()) +
                         " expected lines, " + std::to_string(o.size()) + " output lines)");
        }
    }
    return correct();
}

}  // namespace

bool is_compare_kind(const std::string& k) {
    return k == "white_diff" || k == "tokens" || k == "floats" || k == "floats_nocase" || k == "yes_no" ||
           k == "unordered_lines";
}

CompareResult compare(const std::string& kind, const std::string& expected_path, const std::string& output_path,
                      double abs_tol, double rel_tol) {
    if (!is_compare_kind(kind))
        throw std::invalid_argument("unknown comparator '" + kind +
                                    "' (white_diff, tokens, floats, floats_nocase, yes_no, unordered_lines)");
    try {
        Reader expected(expected_path, false);
        std::unique_ptr<Reader> output;
        try {
            output = std::make_unique<Reader>(output_path, true);
        } catch (const ReadFailure& f) {
            return wrong("cannot open output: " + std::string(std::strerror(f.err)));
        }
        if (kind == "white_diff") return white_diff(expected, *output);
        if (kind == "tokens") return compare_tokens(expected, *output, TokMode::exact, abs_tol, rel_tol);
        if (kind == "floats") return compare_tokens(expected, *output, TokMode::floats, abs_tol, rel_tol);
        if (kind == "floats_nocase")
            return compare_tokens(expected, *output, TokMode::floats_nocase, abs_tol, rel_tol);
        if (kind == "yes_no") return compare_tokens(expected, *output, TokMode::nocase, abs_tol, rel_tol);
        return unordered_lines(expected, *output);
    } catch (const ReadFailure& f) {
        if (f.output) return wrong("cannot read output: " + std::string(std::strerror(f.err)));
        throw CompareIOError(f.err, f.path, "cannot read expected output " + f.path + ": " + std::strerror(f.err));
    }
}

int checker_main(const char* kind, int argc, char** argv) {
    if (argc != 4 && argc != 6) {
        std::fprintf(stderr, "usage: %s <input> <correct_output> <contestant_output> [abs_tol rel_tol]\n",
                     argc > 0 ? argv[0] : "checker");
        return 1;
    }
    double abs_tol = 1e-6, rel_tol = 1e-6;
    if (argc == 6) {
        char *e1 = nullptr, *e2 = nullptr;
        abs_tol = std::strtod(argv[4], &e1);
        rel_tol = std::strtod(argv[5], &e2);
        if (*e1 || *e2 || e1 == argv[4] || e2 == argv[5]) {
            std::fprintf(stderr, "bad tolerances '%s' '%s'\n", argv[4], argv[5]);
            return 1;
        }
    }
    try {
        CompareResult r = compare(kind, argv[2], argv[3], abs_tol, rel_tol);
        std::printf("%d\n", r.ok ? 1 : 0);
        if (r.ok) std::fprintf(stderr, "%s\n", r.message.c_str());
        else std::fprintf(stderr, "Output isn't correct: %s\n", r.message.c_str());
        return 0;
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "checker error: %s\n", ex.what());
        return 1;
    }
}

}  // namespace ioi
