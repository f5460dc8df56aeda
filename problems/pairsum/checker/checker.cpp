// Checker for "pairsum", testlib exit-code protocol, plain C++ (no testlib.h).
//
//   checker <input> <contestant_output> <correct_answer>
//
// Exit code 0: OK, 1: wrong answer, 2: presentation error (malformed output),
// 3: checker failure (bad input or jury answer). The message goes to stderr.
//
// Any valid pair of indices is accepted, in either order; "-1" is accepted only when no
// pair exists. The jury answer file holds one valid pair or -1 and only tells whether a
// pair exists.
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

enum Verdict { OK = 0, WA = 1, PE = 2, FAIL = 3 };

[[noreturn]] void quit(Verdict v, const char* fmt, ...) {
  static const char* prefix[] = {"ok", "wrong answer", "wrong output format", "FAIL"};
  std::fprintf(stderr, "%s ", prefix[v]);
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::exit(v);
}

// Reads a whole file and splits it on whitespace. At most max_tokens + 1 tokens are kept
// (enough to notice extra output), and a token is cut after 32 characters (enough to notice
// that it is too long to be a number).
bool read_tokens(const char* path, std::vector<std::string>& tokens, size_t max_tokens) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  std::string cur;
  bool in_token = false;
  int c;
  while ((c = std::fgetc(f)) != EOF) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
      if (in_token) {
        tokens.push_back(cur);
        cur.clear();
        in_token = false;
        if (tokens.size() > max_tokens) break;
      }
    } else {
      in_token = true;
      if (cur.size() < 32) cur += (char)c;
    }
  }
  if (in_token && tokens.size() <= max_tokens) tokens.push_back(cur);
  std::fclose(f);
  return true;
}

// Strict integer: optional '-', then 1 to 18 digits, no leading '+', no leading zeros.
bool parse_int(const std::string& s, long long& out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') neg = true, i++;
  if (i == s.size() || s.size() - i > 18) return false;
  if (s[i] == '0' && s.size() - i > 1) return false;
  long long v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  if (neg && v == 0) return false;
  out = neg ? -v : v;
  return true;
}

long long n, S;
std::vector<long long> a;

bool valid_pair(long long i, long long j) {
  return 1 <= i && i <= n && 1 <= j && j <= n && i != j && a[i] + a[j] == S;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) quit(FAIL, "usage: checker <input> <contestant_output> <correct_answer>");

  // Input (trusted, but checked).
  std::vector<std::string> in;
  if (!read_tokens(argv[1], in, 1u << 20)) quit(FAIL, "cannot open input file");
  if (in.size() < 2 || !parse_int(in[0], n) || !parse_int(in[1], S) || n < 1 ||
      (long long)in.size() != n + 2)
    quit(FAIL, "malformed input file");
  a.assign(n + 1, 0);
  for (long long i = 1; i <= n; i++)
    if (!parse_int(in[i + 1], a[i])) quit(FAIL, "malformed input file");

  // Jury answer: "-1" or a valid pair.
  std::vector<std::string> ans;
  if (!read_tokens(argv[3], ans, 2)) quit(FAIL, "cannot open answer file");
  long long ji = 0, jj = 0;
  bool jury_has_pair;
  if (ans.size() == 1 && parse_int(ans[0], ji) && ji == -1) {
    jury_has_pair = false;
  } else if (ans.size() == 2 && parse_int(ans[0], ji) && parse_int(ans[1], jj) && valid_pair(ji, jj)) {
    jury_has_pair = true;
  } else {
    quit(FAIL, "malformed or invalid answer file");
  }

  // Contestant output.
  std::vector<std::string> out;
  if (!read_tokens(argv[2], out, 2)) quit(FAIL, "cannot open contestant output");
  if (out.empty()) quit(PE, "empty output");
  long long ci = 0, cj = 0;
  if (!parse_int(out[0], ci)) quit(PE, "expected an integer, found \"%.20s\"", out[0].c_str());
  if (ci == -1) {
    if (out.size() > 1) quit(PE, "extra tokens after -1");
    if (jury_has_pair) quit(WA, "printed -1, but a pair exists (e.g. %lld %lld)", ji, jj);
    quit(OK, "no pair exists");
  }
  if (out.size() < 2) quit(PE, "expected two indices, found one token");
  if (!parse_int(out[1], cj)) quit(PE, "expected an integer, found \"%.20s\"", out[1].c_str());
  if (out.size() > 2) quit(PE, "extra tokens after the two indices");
  if (ci < 1 || ci > n || cj < 1 || cj > n) quit(WA, "index out of range [1, %lld]: %lld %lld", n, ci, cj);
  if (ci == cj) quit(WA, "the two indices are equal (%lld)", ci);
  if (a[ci] + a[cj] != S)
    quit(WA, "a[%lld] + a[%lld] = %lld, expected %lld", ci, cj, a[ci] + a[cj], S);
  if (!jury_has_pair) quit(FAIL, "contestant found a pair (%lld, %lld) the jury missed", ci, cj);
  quit(OK, "valid pair %lld %lld", ci, cj);
}
