// Checker for "dominoes" (OutputOnly), CMS protocol:
//
//   checker <input> <correct_output> <contestant_output>
//
// Prints the score in [0, 1] on the first line of stdout and a message on the first line of
// stderr, and exits 0. A non-zero exit code means broken judge data (the input or the reference
// output), never a wrong answer.
//
// The contestant's placement is validated (K, then K lines "r c H|V", 1-based, every domino on
// two free cells, no cell covered twice, nothing else in the file). With B dominoes in the
// reference placement the score is 1 when K >= B and (K / B)^10 otherwise.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void judge_failure(const std::string& msg) {
    printf("0.0\n");
    fprintf(stderr, "Judge failure: %s\n", msg.c_str());
    exit(1);
}

[[noreturn]] void verdict(double score, const std::string& msg) {
    printf("%.6f\n", score);
    fprintf(stderr, "%s\n", msg.c_str());
    exit(0);
}

[[noreturn]] void wrong(const std::string& msg) { verdict(0.0, "Wrong answer: " + msg); }

std::vector<std::string> tokens_of(const char* path, bool judge_file) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (judge_file) judge_failure(std::string("cannot open ") + path);
        wrong("cannot read the output file");
    }
    std::vector<std::string> toks;
    std::string t;
    while (in >> t) {
        toks.push_back(t);
        if (toks.size() > 4000000) {
            if (judge_file) judge_failure("judge file too large");
            wrong("output file too large");
        }
    }
    return toks;
}

// Parses a non-negative decimal integer of at most 9 digits; -1 if it is not one.
long long parse_nat(const std::string& s) {
    if (s.empty() || s.size() > 9) return -1;
    long long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s <input> <correct_output> <contestant_output>\n", argv[0]);
        return 1;
    }

    // Input.
    std::vector<std::string> inp = tokens_of(argv[1], true);
    if (inp.size() < 2) judge_failure("malformed input");
    long long R = parse_nat(inp[0]), C = parse_nat(inp[1]);
    if (R < 1 || C < 1 || R > 1000 || C > 1000 || (long long)inp.size() != 2 + R)
        judge_failure("malformed input");
    std::vector<std::string> grid(inp.begin() + 2, inp.end());
    for (const std::string& row : grid) {
        if ((long long)row.size() != C) judge_failure("malformed input row");
        for (char ch : row)
            if (ch != '.' && ch != '#') judge_failure("malformed input cell");
    }

    // Reference: only its count matters.
    std::vector<std::string> ref = tokens_of(argv[2], true);
    if (ref.empty()) judge_failure("empty reference output");
    long long B = parse_nat(ref[0]);
    if (B < 0 || B > R * C / 2) judge_failure("malformed reference output");

    // Contestant.
    std::vector<std::string> out = tokens_of(argv[3], false);
    if (out.empty()) wrong("empty output");
    long long K = parse_nat(out[0]);
    if (K < 0) wrong("the first token must be the number of dominoes");
    if (K > R * C / 2) wrong("more dominoes than the grid can hold");
    if ((long long)out.size() < 1 + 3 * K) wrong("the output ends before the " + std::to_string(K) + " dominoes");
    if ((long long)out.size() > 1 + 3 * K) wrong("extra data after the " + std::to_string(K) + " dominoes");

    std::vector<std::vector<char>> covered(R, std::vector<char>(C, 0));
    for (long long i = 0; i < K; i++) {
        const std::string& rs = out[1 + 3 * i];
        const std::string& cs = out[2 + 3 * i];
        const std::string& ds = out[3 + 3 * i];
        std::string where = "domino " + std::to_string(i + 1);
        long long r = parse_nat(rs), c = parse_nat(cs);
        if (r < 1 || r > R || c < 1 || c > C) wrong(where + ": cell out of the grid");
        if (ds != "H" && ds != "V") wrong(where + ": orientation must be H or V");
        long long r2 = r, c2 = c;
        if (ds == "H")
            c2++;
        else
            r2++;
        if (r2 > R || c2 > C) wrong(where + ": sticks out of the grid");
        long long cells[2][2] = {{r - 1, c - 1}, {r2 - 1, c2 - 1}};
        for (auto& cell : cells) {
            if (grid[cell[0]][cell[1]] != '.') wrong(where + ": covers a blocked cell");
            if (covered[cell[0]][cell[1]]) wrong(where + ": overlaps another domino");
            covered[cell[0]][cell[1]] = 1;
        }
    }

    std::string used = std::to_string(K) + " dominoes, reference " + std::to_string(B);
    if (K >= B) verdict(1.0, "Correct: " + used);
    double score = std::pow((double)K / (double)B, 10.0);
    verdict(score, "Partially correct: " + used);
}
