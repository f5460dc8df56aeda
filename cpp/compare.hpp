// Output comparators of ioi-eval, shared by the Python module (ioi_box._native.compare) and the
// standalone CMS-protocol checkers in checkers/. Pure C++17, no dependencies, so a checker builds
// with one g++ line:
//   g++ -O2 -std=gnu++17 -static -I cpp checkers/tokens.cpp cpp/compare.cpp -o tokens
//
// Every comparator streams both files through fixed-size buffers: memory use does not depend on
// the size of the files, the length of their lines or of their tokens (except unordered_lines,
// which must hold the lines to compare them as multisets).
#pragma once

#include <stdexcept>
#include <string>

namespace ioi {

struct CompareResult {
    bool ok;
    std::string message;  // "Output is correct" or a short reason such as "line 3 differs"
};

// The expected (reference) file could not be read: a judge error, not a wrong answer.
// (An unreadable contestant output is simply a wrong answer.)
class CompareIOError : public std::runtime_error {
public:
    CompareIOError(int err, std::string path, const std::string& what)
        : std::runtime_error(what), err_(err), path_(std::move(path)) {}
    int err() const { return err_; }
    const std::string& path() const { return path_; }

private:
    int err_;
    std::string path_;
};

// kind: white_diff | tokens | floats | floats_nocase | yes_no | unordered_lines. Throws std::invalid_argument for
// an unknown kind and CompareIOError when expected_path cannot be read.
CompareResult compare(const std::string& kind, const std::string& expected_path, const std::string& output_path,
                      double abs_tol = 1e-6, double rel_tol = 1e-6);

bool is_compare_kind(const std::string& kind);

// main() of a standalone checker in the CMS protocol:
//   checker <input> <correct_output> <contestant_output> [abs_tol rel_tol]
// prints 1 or 0 on stdout and a message on stderr, exits 0 (1 on a judge error).
int checker_main(const char* kind, int argc, char** argv);

}  // namespace ioi
