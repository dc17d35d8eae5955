#include "tools/bonafide/flags.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bonafide::cli {

FlagSet::FlagSet(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

void FlagSet::String(const char* name, const char* help, std::string* value) {
  flags_.push_back({name, help, Kind::kString, value, *value});
}
void FlagSet::Int(const char* name, const char* help, int* value) {
  flags_.push_back({name, help, Kind::kInt, value, std::to_string(*value)});
}
void FlagSet::Bool(const char* name, const char* help, bool* value) {
  flags_.push_back({name, help, Kind::kBool, value, *value ? "true" : "false"});
}

void FlagSet::PrintHelp() const {
  std::printf("usage: %s\n\n%s\n\nflags:\n", usage_.c_str(), description_.c_str());
  for (const Flag& f : flags_) {
    std::string head = "  --" + f.name;
    if (f.kind != Kind::kBool) head += f.kind == Kind::kInt ? " N" : " VALUE";
    std::printf("%-24s %s", head.c_str(), f.help.c_str());
    if (!f.default_text.empty() && f.kind != Kind::kBool) {
      std::printf(" (default: %s)", f.default_text.c_str());
    }
    std::printf("\n");
  }
  std::printf(
      "  --help                 show this help\n\n"
      "exit status: 0 done (whether or not anything was flagged), 1 a failure stopped the "
      "work, 2 bad usage or bad rules\n");
}

FlagSet::Outcome FlagSet::Parse(int argc, char** argv, std::vector<std::string>* positional) {
  auto fail = [&](const std::string& message) {
    std::fprintf(stderr, "bonafide: %s\n(see: %s --help)\n", message.c_str(), usage_.c_str());
    return Outcome::kError;
  };
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (only_positional || arg == "-" || arg.substr(0, 2) != "--") {
      positional->emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      return Outcome::kHelp;
    }
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    Flag* flag = nullptr;
    for (Flag& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) return fail("unknown flag --" + std::string(name));
    if (flag->kind == Kind::kBool) {
      if (has_value && value != "true" && value != "false") {
        return fail("--" + flag->name + " takes true or false");
      }
      *static_cast<bool*>(flag->value) = !has_value || value == "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return fail("--" + flag->name + " needs a value");
      value = argv[++i];
    }
    if (flag->kind == Kind::kString) {
      *static_cast<std::string*>(flag->value) = std::string(value);
    } else {
      char* end = nullptr;
      const std::string text(value);
      const long n = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || n < 0 || n > 1 << 20) {
        return fail("--" + flag->name + " takes a non-negative integer, got \"" + text + "\"");
      }
      *static_cast<int*>(flag->value) = static_cast<int>(n);
    }
  }
  return Outcome::kOk;
}

void ExitQuietlyOnBrokenPipe() { std::signal(SIGPIPE, SIG_DFL); }

}  // namespace bonafide::cli
