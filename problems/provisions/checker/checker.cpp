// Checker for "provisions", CMS protocol, plain C++.
//
//   checker <input> <correct_output> <contestant_output>
//
// Prints the score in [0, 1] on the first line of stdout and a message on the first line of
// stderr, and exits 0. A valid selection of total value V scores V / V*, where V* is the
// value of the jury's (optimal) selection; an invalid output scores 0. Exits 1 only when the
// input or the jury's output is broken (or the contestant beats the jury's optimum).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void result(double score, const char* msg) {
  std::printf("%.9f\n", score);
  std::fprintf(stderr, "%s\n", msg);
  std::exit(0);
}

[[noreturn]] void fail(const char* msg) {
  std::fprintf(stderr, "checker failure: %s\n", msg);
  std::exit(1);
}

// Splits a file on whitespace, keeping at most max_tokens + 1 tokens (enough to notice extra
// output) and at most 32 characters of each token.
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

// Strict non-negative integer of at most 18 digits without leading zeros.
bool parse_uint(const std::string& s, long long& out) {
  if (s.empty() || s.size() > 18 || (s[0] == '0' && s.size() > 1)) return false;
  long long v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  out = v;
  return true;
}

long long N, W;
std::vector<long long> w, v;

// Validates a selection; on success stores its value, otherwise describes the problem.
bool evaluate(const std::vector<std::string>& t, long long& value, std::string& why) {
  char buf[200];
  long long K;
  if (t.empty()) return why = "empty output", false;
  if (!parse_uint(t[0], K)) return why = "the first token is not a valid count", false;
  if (K > N) {
    std::snprintf(buf, sizeof buf, "count %lld exceeds N = %lld", K, N);
    return why = buf, false;
  }
  if ((long long)t.size() < K + 1) return why = "fewer indices than announced", false;
  if ((long long)t.size() > K + 1) return why = "extra tokens after the indices", false;
  std::vector<char> used(N + 1, 0);
  long long weight = 0;
  value = 0;
  for (long long k = 1; k <= K; k++) {
    long long i;
    if (!parse_uint(t[k], i)) return why = "an index is not a valid integer", false;
    if (i < 1 || i > N) {
      std::snprintf(buf, sizeof buf, "index %lld out of range [1, %lld]", i, N);
      return why = buf, false;
    }
    if (used[i]) {
      std::snprintf(buf, sizeof buf, "item %lld packed twice", i);
      return why = buf, false;
    }
    used[i] = 1;
    weight += w[i];
    value += v[i];
  }
  if (weight > W) {
    std::snprintf(buf, sizeof buf, "total weight %lld exceeds the capacity %lld", weight, W);
    return why = buf, false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) fail("usage: checker <input> <correct_output> <contestant_output>");

  std::vector<std::string> in;
  if (!read_tokens(argv[1], in, 1000)) fail("cannot open input");
  if (in.size() < 2 || !parse_uint(in[0], N) || !parse_uint(in[1], W) || N < 1 ||
      (long long)in.size() != 2 + 2 * N)
    fail("malformed input");
  w.assign(N + 1, 0);
  v.assign(N + 1, 0);
  for (long long i = 1; i <= N; i++)
    if (!parse_uint(in[2 * i], w[i]) || !parse_uint(in[2 * i + 1], v[i])) fail("malformed input");

  std::vector<std::string> jury, out;
  if (!read_tokens(argv[2], jury, N + 1)) fail("cannot open the correct output");
  long long best = 0, got = 0;
  std::string why;
  if (!evaluate(jury, best, why)) fail(("invalid jury output: " + why).c_str());

  if (!read_tokens(argv[3], out, N + 1)) fail("cannot open the contestant output");
  if (!evaluate(out, got, why)) result(0.0, ("invalid output: " + why).c_str());

  char msg[200];
  if (got > best) {
    std::snprintf(msg, sizeof msg, "contestant value %lld beats the jury's %lld", got, best);
    fail(msg);
  }
  std::snprintf(msg, sizeof msg, "total value %lld, optimum %lld", got, best);
  result(best == 0 ? 1.0 : (double)got / (double)best, msg);
}
