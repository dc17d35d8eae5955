#include "tools/bonafide/flags.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace bonafide::cli {
namespace {

// "a", "a or b", "a, b or c".
std::string JoinAlternatives(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

// Shortest text that reads back as `v` ("0.5", "1", "1e+06").
std::string FormatNumber(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

}  // namespace

FlagSet::FlagSet(std::string command, std::string synopsis, std::string description,
                 std::string exit_status)
    : command_(std::move(command)),
      synopsis_(std::move(synopsis)),
      description_(std::move(description)),
      exit_status_(std::move(exit_status)) {}

void FlagSet::String(const char* name, const char* help, std::string* value) {
  flags_.push_back({name, help, Kind::kString, value, *value});
}
void FlagSet::Enum(const char* name, const char* help, std::string* value,
                   std::vector<std::string> allowed) {
  Flag flag{name, help, Kind::kEnum, value, *value};
  flag.allowed = std::move(allowed);
  flags_.push_back(std::move(flag));
}
void FlagSet::Int(const char* name, const char* help, int* value, int min, int max) {
  Flag flag{name, help, Kind::kInt, value, std::to_string(*value)};
  flag.int_min = min;
  flag.int_max = max;
  flags_.push_back(std::move(flag));
}
void FlagSet::Double(const char* name, const char* help, std::optional<double>* value, double min,
                     double max) {
  Flag flag{name, help, Kind::kDouble, value, value->has_value() ? FormatNumber(**value) : ""};
  flag.double_min = min;
  flag.double_max = max;
  flags_.push_back(std::move(flag));
}
void FlagSet::Bool(const char* name, const char* help, bool* value) {
  flags_.push_back({name, help, Kind::kBool, value, *value ? "true" : "false"});
}

void FlagSet::PrintHelp() const {
  std::printf("usage: %s %s\n\n%s\n\nflags:\n", command_.c_str(), synopsis_.c_str(),
              description_.c_str());
  for (const Flag& f : flags_) {
    std::string head = "  --" + f.name;
    std::string range;
    switch (f.kind) {
      case Kind::kString:
        head += " VALUE";
        break;
      case Kind::kEnum:
        head += " ";
        for (size_t i = 0; i < f.allowed.size(); ++i) head += (i ? "|" : "") + f.allowed[i];
        break;
      case Kind::kInt:
        head += " N";
        range = std::to_string(f.int_min) + " to " + std::to_string(f.int_max);
        break;
      case Kind::kDouble:
        head += " X";
        range = FormatNumber(f.double_min) + " to " + FormatNumber(f.double_max);
        break;
      case Kind::kBool:
        break;
    }
    // A flag too long for the column gets a line of its own, so the help stays aligned.
    if (head.size() >= 24) {
      std::printf("%s\n%-24s %s", head.c_str(), "", f.help.c_str());
    } else {
      std::printf("%-24s %s", head.c_str(), f.help.c_str());
    }
    if (!range.empty() && !f.default_text.empty()) {
      std::printf(" (%s; default: %s)", range.c_str(), f.default_text.c_str());
    } else if (!range.empty()) {
      std::printf(" (%s; default: unset)", range.c_str());
    } else if (!f.default_text.empty() && f.kind != Kind::kBool) {
      std::printf(" (default: %s)", f.default_text.c_str());
    }
    std::printf("\n");
  }
  std::printf("  --help                 show this help\n\nexit status:\n");
  // One status per line, indented under the heading.
  for (size_t start = 0; start < exit_status_.size();) {
    size_t end = exit_status_.find('\n', start);
    if (end == std::string::npos) end = exit_status_.size();
    std::printf("  %.*s\n", static_cast<int>(end - start), exit_status_.data() + start);
    start = end + 1;
  }
}

int FlagSet::UsageError(std::string_view message) const {
  std::fprintf(stderr, "%s: %.*s\n(see: %s --help)\n", command_.c_str(),
               static_cast<int>(message.size()), message.data(), command_.c_str());
  return kExitUsage;
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string FlagSet::Suggestion(std::string_view typed) const {
  if (typed.empty()) return "";
  std::vector<std::string> candidates;
  for (const Flag& f : flags_) {
    // `-threads` (one dash), `-t` and `--thread` all abbreviate or misspell --threads.
    const bool abbreviates = f.name.compare(0, typed.size(), typed) == 0;
    const bool extends = typed.size() > f.name.size() && typed.substr(0, f.name.size()) == f.name;
    if (abbreviates || extends) candidates.emplace_back("--" + f.name);
  }
  if (std::string_view("help").substr(0, typed.size()) == typed) candidates.emplace_back("--help");
  if (candidates.empty()) return "";
  return " (did you mean " + JoinAlternatives(candidates) + "?)";
}

std::string FlagSet::Set(Flag& flag, std::string_view text) {
  const std::string dashed = "--" + flag.name;
  const std::string got = ", got \"" + std::string(text) + "\"";
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.value) = std::string(text);
      return "";
    case Kind::kEnum:
      for (const std::string& allowed : flag.allowed) {
        if (text == allowed) {
          *static_cast<std::string*>(flag.value) = allowed;
          return "";
        }
      }
      return dashed + " takes " + JoinAlternatives(flag.allowed) + got;
    case Kind::kInt: {
      const std::string s(text);
      char* end = nullptr;
      errno = 0;
      const long long n = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno == ERANGE || n < flag.int_min || n > flag.int_max) {
        return dashed + " takes an integer from " + std::to_string(flag.int_min) + " to " +
               std::to_string(flag.int_max) + got;
      }
      *static_cast<int*>(flag.value) = static_cast<int>(n);
      return "";
    }
    case Kind::kDouble: {
      const std::string s(text);
      char* end = nullptr;
      const double x = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0' || !std::isfinite(x) || x < flag.double_min ||
          x > flag.double_max) {
        return dashed + " takes a number from " + FormatNumber(flag.double_min) + " to " +
               FormatNumber(flag.double_max) + got;
      }
      *static_cast<std::optional<double>*>(flag.value) = x;
      return "";
    }
    case Kind::kBool:
      if (text != "true" && text != "false") return dashed + " takes true or false" + got;
      *static_cast<bool*>(flag.value) = text == "true";
      return "";
  }
  return "";
}

std::optional<int> FlagSet::Parse(int argc, char** argv, std::vector<std::string>* positional) {
  auto fail = [&](std::string_view message) { return std::optional<int>(UsageError(message)); };
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (only_positional || arg == "-" || arg.empty() || arg.front() != '-') {
      positional->emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      return kExitOk;
    }
    const bool long_form = arg.substr(0, 2) == "--";
    std::string_view typed = arg.substr(long_form ? 2 : 1);
    std::string_view name = typed, value;
    bool has_value = false;
    if (const size_t eq = typed.find('='); eq != std::string_view::npos) {
      name = typed.substr(0, eq);
      value = typed.substr(eq + 1);
      has_value = true;
    }
    Flag* flag = long_form ? Find(name) : nullptr;
    if (flag == nullptr) {
      std::string suggestion = Suggestion(name);
      if (suggestion.empty() && !long_form) suggestion = Suggestion(name.substr(0, 1));  // -t2
      return fail(std::string(arg.substr(0, arg.size() - typed.size() + name.size())) +
                  ": unknown flag" + suggestion);
    }
    if (flag->kind == Kind::kBool && !has_value) {
      *static_cast<bool*>(flag->value) = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return fail("--" + flag->name + " needs a value");
      value = argv[++i];
    }
    if (std::string error = Set(*flag, value); !error.empty()) return fail(error);
  }
  return std::nullopt;
}

void ExitQuietlyOnBrokenPipe() { std::signal(SIGPIPE, SIG_DFL); }

namespace {

// Set by the first SIGINT or SIGTERM. Relaxed: the flag itself is all that is communicated.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void RequestStop(int /*signal*/) {
  stop_requested.store(true, std::memory_order_relaxed);
}

}  // namespace

const std::atomic<bool>* InstallStopHandler() {
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return &stop_requested;
}

}  // namespace bonafide::cli
