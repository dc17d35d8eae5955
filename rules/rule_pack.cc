// Loading and validation of the rules directory (docs/rule-format.md).
//
// Each file is read into memory, checked to be UTF-8, parsed with yaml-cpp and then walked
// once. Every mapping is checked for unknown and duplicate keys before any of its values is
// read, so a typo is reported at the typo and not as a missing field. The first error stops
// loading; files are read in a fixed order (policy, cues, context, rights holders sorted by
// file name) so that the error reported for a broken directory is always the same.
//
// yaml-cpp reports 0-based lines and byte columns; messages use 1-based lines and 1-based
// columns counted in characters (Unicode code points), which is what editors show. Its
// syntax errors are parser jargon placed where the parser gave up ("end of map not found"
// for a tab, "illegal map value" on the line after a missing colon), so tabs are found
// before parsing and the common errors are translated (SyntaxError()).

#include "rules/rule_pack.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

#include "rules/normalize.h"
#include "util/files.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::rules {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------
// Small string helpers.

// Returns `s` in double quotes, cut to `max_size` bytes at a character boundary, with
// quotes and line breaks escaped so that a message stays on one line.
std::string Quote(std::string_view s, size_t max_size = std::string_view::npos) {
  bool cut = false;
  if (s.size() > max_size) {
    s = s.substr(0, Utf8PrefixLength(s, max_size));
    cut = true;
  }
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.push_back(c);
    }
  }
  if (cut) out.append("...");
  out.push_back('"');
  return out;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool AllCharsIn(std::string_view s, std::string_view extra) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// The names under which reasons and the summary report the built-in signals; a cue rule
// with one of them as its id would be indistinguishable from the signal.
constexpr std::string_view kSignalNames[] = {"price", "image", "obfuscated_brand",
                                             "known_counterfeit_photo", "seller_record"};

bool IsRightsHolderId(std::string_view s) { return AllCharsIn(s, "_-"); }
bool IsRuleId(std::string_view s) { return AllCharsIn(s, "._-"); }

// YYYY-MM-DD with a plausible month and day.
bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// Levenshtein distance, case-insensitive (ASCII).
size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Returns the candidate closest to `word` when it is close enough to be a likely typo.
std::optional<std::string_view> DidYouMean(std::string_view word,
                                           const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 0;
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(word, c);
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best) return std::nullopt;
  const size_t limit = std::max<size_t>(2, std::min(word.size(), best->size()) / 3);
  if (best_distance > limit || best_distance >= word.size()) return std::nullopt;
  return best;
}

// Returns the offset of the first C0 control character other than tab, LF and CR, or of
// DEL, or npos. (YAML's printable set; C1 controls are left to yaml-cpp.)
size_t FindControlCharacter(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return i;
  }
  return std::string_view::npos;
}

constexpr std::string_view kTabInIndentation =
    "tab character in indentation (YAML allows only spaces)";

// Returns the offset of the first tab in the indentation of a line in block context, or
// npos. YAML indents with spaces only; yaml-cpp notices a tab late and names something else.
// Not reported, because YAML allows them: tabs inside block scalars (`|`, `>`), inside flow
// collections and quoted scalars that span lines, before a comment, and on blank lines.
// The scan is a rough lexer: when unsure (a quote or bracket inside a plain scalar) it
// errs towards not reporting, and yaml-cpp's own error, translated, still applies.
size_t FindTabInIndentation(std::string_view text) {
  int flow_depth = 0;        // open '[' and '{'
  char quote = 0;            // '\'' or '"' while inside a quoted scalar
  int block_scalar_of = -1;  // indentation of the node that owns an open block scalar
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_start, line_end - line_start);
    const size_t content = line.find_first_not_of(" \t\r");
    const bool blank = content == std::string_view::npos;
    if (block_scalar_of >= 0) {
      const size_t spaces = line.find_first_not_of(' ');
      if (blank ||
          (spaces != std::string_view::npos && static_cast<int>(spaces) > block_scalar_of)) {
        line_start = line_end + 1;
        continue;
      }
      block_scalar_of = -1;
    }
    if (!blank && quote == 0 && flow_depth == 0 && line[content] != '#') {
      const size_t tab = line.substr(0, content).find('\t');
      if (tab != std::string_view::npos) return line_start + tab;
    }
    // The node's indentation: past the spaces and any "- " of sequence entries.
    size_t node = blank ? line.size() : content;
    while (node + 1 < line.size() && line[node] == '-' && line[node + 1] == ' ') {
      node = line.find_first_not_of(' ', node + 1);
      if (node == std::string_view::npos) node = line.size();
    }
    size_t last_token = std::string_view::npos;  // start of the last token outside quotes
    for (size_t i = blank ? line.size() : content; i < line.size(); ++i) {
      const char c = line[i];
      const bool at_token = i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t' ||
                            line[i - 1] == '[' || line[i - 1] == '{' || line[i - 1] == ',';
      if (quote == '"') {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quote = 0;
        }
        continue;
      }
      if (quote == '\'') {
        if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else if (c == '\'') {
          quote = 0;
        }
        continue;
      }
      if (c == '#' && at_token) break;  // a comment
      if (at_token && c != ' ' && c != '\t') last_token = i;
      if ((c == '"' || c == '\'') && at_token) {
        quote = c;
      } else if ((c == '[' || c == '{') && at_token) {
        ++flow_depth;
      } else if ((c == ']' || c == '}') && flow_depth > 0) {
        --flow_depth;
      }
    }
    // `key: |`, `- >-`, `key: |2 # comment`: the lines after it are the scalar's text.
    if (quote == 0 && flow_depth == 0 && last_token != std::string_view::npos &&
        (line[last_token] == '|' || line[last_token] == '>')) {
      const std::string_view indicator = line.substr(last_token + 1);
      const size_t end = indicator.find_first_not_of("+-0123456789");
      if (end == std::string_view::npos ||
          indicator.find_first_not_of(" \t\r", end) == std::string_view::npos ||
          indicator[indicator.find_first_not_of(" \t\r", end)] == '#') {
        // `- |` belongs to the entry, whose indentation is its dash's.
        block_scalar_of = static_cast<int>(node == last_token && node >= 2 ? node - 2 : node);
      }
    }
    line_start = line_end + 1;
  }
  return std::string_view::npos;
}

// ---------------------------------------------------------------------------------------
// A pass over the parser's events before yaml-cpp builds nodes.
//
// 1. Alias expansion ("billion laughs"). yaml-cpp shares an aliased node instead of
//    copying it, but the walk below copies every value it reads into the RulePack, so
//    `brands: [*b, *b, ...]` with `b` holding a long `aliases: *list` makes a 20 KB file
//    stand for millions of strings (and Hyperscan patterns). The pass counts the nodes
//    each alias stands for and stops at kMaxAliasNodes per file. Literal content is not
//    limited: a file costs in proportion to its size, whatever its anchors.
// 2. Documents. yaml-cpp 0.7 never gets past a stray ',' at the top level (",\n",
//    "- a\n,\n"): HandleNextDocument() keeps returning empty documents, and YAML::LoadAll
//    loops forever, growing (yaml-cpp issue #1040, fixed in 0.8). A rules file holds one
//    document, so the pass stops at the start of a second one: "---" starts a real second
//    document, anything else is the token yaml-cpp is stuck on.

constexpr uint64_t kMaxAliasNodes = 100000;

// Thrown by EventPass out of the yaml-cpp parser to stop it early.
struct PassError {
  YAML::Mark mark;
  std::string message;
};

class EventPass final : public YAML::EventHandler {
 public:
  // `text_at(mark)` returns the file's text from `mark` on.
  explicit EventPass(std::function<std::string_view(const YAML::Mark&)> text_at)
      : text_at_(std::move(text_at)) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      const std::string_view rest = text_at_(mark);
      if (rest.substr(0, 3) == "---") {
        throw PassError{mark, "more than one yaml document in the file"};
      }
      throw PassError{mark, absl::StrCat("malformed yaml: unexpected ",
                                         Quote(rest.substr(0, rest.find('\n')), 20))};
    }
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { Leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    Leaf(anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const uint64_t size = anchor < sizes_.size() ? sizes_[anchor] : 0;
    if (size == 0) {  // the anchored node is still open: the alias is inside it
      throw PassError{mark, "yaml alias refers to a node that contains it"};
    }
    alias_nodes_ += size;
    if (alias_nodes_ > kMaxAliasNodes) {
      throw PassError{mark, absl::StrCat("yaml aliases expand to more than ", kMaxAliasNodes,
                                         " nodes (anchors must not multiply the content)")};
    }
    if (!stack_.empty()) stack_.back().size += size;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct OpenNode {
    YAML::anchor_t anchor;
    // Nodes it stands for so far (itself included), aliases expanded; no overflow: at most
    // the file's literal nodes plus kMaxAliasNodes.
    uint64_t size;
  };
  void Record(YAML::anchor_t anchor, uint64_t size) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, 0);
    sizes_[anchor] = size;
  }
  void Leaf(YAML::anchor_t anchor) {
    Record(anchor, 1);
    if (!stack_.empty()) ++stack_.back().size;
  }
  void Open(YAML::anchor_t anchor) { stack_.push_back(OpenNode{anchor, 1}); }
  void Close() {
    if (stack_.empty()) return;
    const OpenNode node = stack_.back();
    stack_.pop_back();
    Record(node.anchor, node.size);
    if (!stack_.empty()) stack_.back().size += node.size;
  }

  std::function<std::string_view(const YAML::Mark&)> text_at_;
  int documents_ = 0;
  std::vector<uint64_t> sizes_;  // by anchor id: expanded size, 0 while open or unknown
  std::vector<OpenNode> stack_;
  uint64_t alias_nodes_ = 0;  // nodes added by aliases in this file
};

// ---------------------------------------------------------------------------------------
// One YAML file: its display path, its text (for character columns) and its root node.

class YamlFile {
 public:
  // Reads and parses `path`; path.string() names the file in messages.
  static absl::StatusOr<YamlFile> Load(const fs::path& path) {
    YamlFile file;
    file.path_ = path.string();
    absl::StatusOr<std::string> bytes = ReadFile(file.path_);
    if (!bytes.ok()) {
      // A bad rules directory is InvalidArgument, whatever the file system said.
      return absl::InvalidArgumentError(absl::StrCat(file.path_, absl::IsDataLoss(bytes.status())
                                                                     ? ": cannot read file"
                                                                     : ": cannot open file"));
    }
    file.text_ = std::move(bytes).value();
    if (std::string_view(file.text_).substr(0, 3) == "\xEF\xBB\xBF") {
      file.text_.erase(0, 3);  // UTF-8 byte order mark; yaml-cpp marks start after it
    }
    file.line_starts_.push_back(0);
    for (size_t i = 0; i < file.text_.size(); ++i) {
      if (file.text_[i] == '\n') file.line_starts_.push_back(i + 1);
    }
    auto mark_at = [&file](size_t offset) {
      const auto line_it =
          std::upper_bound(file.line_starts_.begin(), file.line_starts_.end(), offset) - 1;
      YAML::Mark mark;
      mark.line = static_cast<int>(line_it - file.line_starts_.begin());
      mark.column = static_cast<int>(offset - *line_it);
      return mark;
    };
    if (const size_t bad = FindInvalidUtf8(file.text_); bad != std::string::npos) {
      return file.Error(mark_at(bad), "file is not valid utf-8");
    }
    // YAML allows no control characters but tab and line breaks; say so here (yaml-cpp
    // 0.7 reports a NUL as an "unknown escape character").
    if (const size_t bad = FindControlCharacter(file.text_); bad != std::string::npos) {
      return file.Error(
          mark_at(bad),
          absl::StrCat("file contains the control character U+",
                       absl::Hex(static_cast<unsigned char>(file.text_[bad]), absl::kZeroPad4),
                       ", which YAML does not allow"));
    }
    if (const size_t tab = FindTabInIndentation(file.text_); tab != std::string::npos) {
      return file.Error(mark_at(tab), kTabInIndentation);
    }
    try {
      std::istringstream events(file.text_);
      YAML::Parser parser(events);
      EventPass pass([&file](const YAML::Mark& mark) {
        const std::string_view text = file.text_;
        if (mark.line < 0 || static_cast<size_t>(mark.line) >= file.line_starts_.size()) {
          return std::string_view();
        }
        return text.substr(
            std::min(text.size(),
                     file.line_starts_[mark.line] + static_cast<size_t>(std::max(0, mark.column))));
      });
      while (parser.HandleNextDocument(pass)) {
      }
      std::vector<YAML::Node> docs = YAML::LoadAll(file.text_);
      if (docs.size() > 1) {
        return file.Error(docs[1].Mark(), "more than one yaml document in the file");
      }
      if (!docs.empty()) file.root_ = docs[0];
    } catch (const YAML::Exception& e) {
      return file.SyntaxError(e.mark, e.msg);
    } catch (const PassError& e) {
      return file.Error(e.mark, e.message);
    }
    return file;
  }

  const std::string& path() const { return path_; }
  const YAML::Node& root() const { return root_; }

  // Returns the 1-based location of `mark` (1:1 for a null mark, e.g. an empty file).
  SourceLocation Locate(const YAML::Mark& mark) const {
    SourceLocation loc;
    loc.file = path_;
    if (mark.is_null() || mark.line < 0 || mark.column < 0) {
      loc.line = 1;
      loc.column = 1;
      return loc;
    }
    loc.line = mark.line + 1;
    loc.column = mark.column + 1;
    if (static_cast<size_t>(mark.line) < line_starts_.size()) {
      const size_t start = line_starts_[mark.line];
      const size_t end = std::min(text_.size(), start + mark.column);
      int chars = 0;
      for (size_t i = start; i < end; ++i) {
        if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++chars;
      }
      loc.column = chars + 1;
    }
    return loc;
  }

  // Returns yaml-cpp's error `message` at `mark` in plain words, at the place to fix.
  absl::Status SyntaxError(const YAML::Mark& mark, const std::string& message) const {
    namespace msg = YAML::ErrorMsg;
    if (message == msg::TAB_IN_INDENTATION) return Error(mark, kTabInIndentation);
    if (message == msg::MAP_VALUE) {
      // `name Nike` followed by `brands: ...`: the parser reads both lines as one key and
      // stops at the colon of the second. Blame the line that lacks its colon.
      if (std::optional<size_t> line = KeyLineWithoutColon(mark)) return MissingColon(*line);
      return Error(mark,
                   "malformed yaml: unexpected ':' (quote a value that contains \": \", or "
                   "check this line's indentation)");
    }
    if (message == msg::END_OF_MAP && mark.line >= 0 &&
        static_cast<size_t>(mark.line) < line_starts_.size()) {
      // `name Nike` ended by a comment: the parser stops at the line itself.
      const std::string_view text = LineText(mark.line);
      const size_t content = text.find_first_not_of(" \t\r");
      if (content != std::string_view::npos &&
          std::string_view("-[{#'\"").find(text[content]) == std::string_view::npos &&
          !HasMappingColon(text)) {
        return MissingColon(mark.line);
      }
    }
    // yaml-cpp's messages are `const char* const`, not constexpr.
    static const std::pair<const char*, const char*> kPlainWords[] = {
        {msg::END_OF_MAP,
         "this line does not continue the mapping above it (check its indentation)"},
        {msg::END_OF_SEQ, "this line does not continue the list above it (check its indentation)"},
        {msg::END_OF_MAP_FLOW, "a mapping opened with '{' is not closed with '}'"},
        {msg::END_OF_SEQ_FLOW, "a list opened with '[' is not closed with ']'"},
        {msg::FLOW_END, "a closing ']' or '}' that nothing opened"},
        {msg::BLOCK_ENTRY, "a list item ('- ') cannot start here (check its indentation)"},
        {msg::UNKNOWN_ANCHOR, "an alias (*name) whose anchor (&name) is not defined before it"},
    };
    for (const auto& [jargon, plain] : kPlainWords) {
      if (message == jargon) return Error(mark, absl::StrCat("malformed yaml: ", plain));
    }
    return Error(mark, absl::StrCat("malformed yaml: ", message));
  }

  absl::Status Error(const YAML::Mark& mark, std::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(FormatLocation(Locate(mark)), ": ", ToAbsl(message)));
  }

 private:
  YamlFile() = default;

  // Returns line `line` (0-based) without its line break.
  std::string_view LineText(size_t line) const {
    const size_t start = line_starts_[line];
    const size_t end = line + 1 < line_starts_.size() ? line_starts_[line + 1] - 1 : text_.size();
    return std::string_view(text_).substr(start, end - start);
  }

  // Returns whether `line` holds a `key: value` or `key:` separator (roughly: quotes are
  // not considered).
  static bool HasMappingColon(std::string_view line) {
    const size_t end = line.find_last_not_of(" \t\r");
    return line.find(": ") != std::string_view::npos ||
           (end != std::string_view::npos && line[end] == ':');
  }

  // Returns the error for line `line` (0-based), a mapping entry without its colon.
  absl::Status MissingColon(size_t line) const {
    const std::string_view text = LineText(line);
    const size_t start = std::min(text.find_first_not_of(" -"), text.size() - 1);
    const size_t end = text.find_last_not_of(" \t\r");
    YAML::Mark at;
    at.line = static_cast<int>(line);
    at.column = static_cast<int>(start);
    return Error(at, absl::StrCat("malformed yaml: missing ':' after ",
                                  Quote(text.substr(start, end + 1 - start), 40),
                                  " (a mapping entry is `key: value`)"));
  }

  // For an illegal ':' at `mark`: when the key before it began on an earlier line (lines
  // without a colon run into the key, as a plain scalar may span lines), returns the first
  // of those lines.
  std::optional<size_t> KeyLineWithoutColon(const YAML::Mark& mark) const {
    if (mark.line <= 0 || static_cast<size_t>(mark.line) >= line_starts_.size()) {
      return std::nullopt;
    }
    const std::string_view before = LineText(mark.line).substr(0, std::max(0, mark.column));
    if (HasMappingColon(before)) return std::nullopt;  // the key began on this line
    std::optional<size_t> first;
    for (size_t line = mark.line; line-- > 0;) {
      const std::string_view text = LineText(line);
      const size_t content = text.find_first_not_of(" \t\r");
      if (content == std::string_view::npos || text[content] == '#') continue;
      if (HasMappingColon(text)) break;
      first = line;
    }
    return first;
  }

  std::string path_;
  std::string text_;
  std::vector<size_t> line_starts_;
  YAML::Node root_;  // Null for an empty file
};

// Describes a node for "expected X, got Y" messages.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar(), /*max_size=*/60);
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "?";
}

// A value to read, with the name used in messages and the place to blame.
struct Field {
  std::string name;  // e.g. "weights.cue"; may be empty for list items
  YAML::Mark key_mark;
  YAML::Node value;

  // The value's own position, or the key's when the value is an implicit null (whose mark
  // points at the next token).
  YAML::Mark mark() const {
    if (value.IsNull() || value.Mark().is_null()) return key_mark;
    return value.Mark();
  }
  std::string Prefix() const { return name.empty() ? "" : name + ": "; }
};

Field Item(const std::string& list_name, const YAML::Node& item) {
  return Field{list_name, item.Mark(), item};
}

// A mapping whose keys were checked: scalars, no duplicates, all known.
class Mapping {
 public:
  // Checks `node` (named by `field`) is a mapping with keys from `allowed` (any key when
  // `allowed` is empty), each at most once. `prefix` is prepended to field names in
  // messages ("weights." gives "weights.cue").
  static absl::StatusOr<Mapping> Read(const YamlFile& file, const Field& field,
                                      const std::vector<std::string_view>& allowed,
                                      std::string prefix = "") {
    if (!field.value.IsMap()) {
      return file.Error(field.mark(), absl::StrCat(field.Prefix(), "expected a mapping, got ",
                                                   Describe(field.value)));
    }
    Mapping m;
    m.mark_ = field.mark();
    m.prefix_ = std::move(prefix);
    for (auto it = field.value.begin(); it != field.value.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
      if (!key.IsScalar()) {
        return file.Error(key.Mark(), absl::StrCat("expected a field name, got ", Describe(key)));
      }
      const std::string& name = key.Scalar();
      for (const Entry& e : m.entries_) {
        if (e.key == name) {
          return file.Error(key.Mark(), absl::StrCat("duplicate key ", Quote(name), " (first at ",
                                                     FormatLocation(file.Locate(e.key_mark)), ")"));
        }
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string message = absl::StrCat("unknown field ", Quote(m.prefix_ + name));
        if (auto hint = DidYouMean(name, allowed)) {
          absl::StrAppend(&message, " (did you mean ", Quote(m.prefix_ + std::string(*hint)), "?)");
        } else {
          std::vector<std::string> names(allowed.begin(), allowed.end());
          absl::StrAppend(&message, " (expected one of: ", absl::StrJoin(names, ", "), ")");
        }
        return file.Error(key.Mark(), message);
      }
      m.entries_.push_back(Entry{name, key.Mark(), it->second});
    }
    return m;
  }

  // Returns the field `key`, or nullopt when absent.
  std::optional<Field> Get(std::string_view key) const {
    for (const Entry& e : entries_) {
      if (e.key == key) return Field{prefix_ + e.key, e.key_mark, e.value};
    }
    return std::nullopt;
  }

  // Returns the field `key`, or an error at the mapping when absent.
  absl::StatusOr<Field> Require(const YamlFile& file, std::string_view key) const {
    if (auto f = Get(key)) return *f;
    return file.Error(mark_,
                      absl::StrCat("missing required field ", Quote(prefix_ + std::string(key))));
  }

  // All fields, in file order (for mappings with free-form keys).
  std::vector<Field> All() const {
    std::vector<Field> out;
    for (const Entry& e : entries_) out.push_back(Field{prefix_ + e.key, e.key_mark, e.value});
    return out;
  }

  const YAML::Mark& mark() const { return mark_; }

 private:
  struct Entry {
    std::string key;
    YAML::Mark key_mark;
    YAML::Node value;
  };
  YAML::Mark mark_;
  std::string prefix_;
  std::vector<Entry> entries_;
};

// ---------------------------------------------------------------------------------------
// Scalar readers.

absl::StatusOr<std::string> ReadString(const YamlFile& file, const Field& f) {
  if (!f.value.IsScalar()) {
    return file.Error(f.mark(),
                      absl::StrCat(f.Prefix(), "expected a string, got ", Describe(f.value)));
  }
  return f.value.Scalar();
}

absl::StatusOr<std::string> ReadNonEmptyString(const YamlFile& file, const Field& f) {
  BONAFIDE_ASSIGN_OR_RETURN(std::string s, ReadString(file, f));
  if (IsBlank(s)) {
    return file.Error(f.mark(), absl::StrCat(f.Prefix(), "must not be empty"));
  }
  return s;
}

// Plain scalars and explicit !!int / !!float are numbers; quoted scalars are strings.
bool IsQuoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

absl::StatusOr<double> ReadNumber(const YamlFile& file, const Field& f) {
  if (!f.value.IsScalar() || IsQuoted(f.value)) {
    const std::string got = f.value.IsScalar()
                                ? absl::StrCat("the string ", Quote(f.value.Scalar()))
                                : Describe(f.value);
    return file.Error(f.mark(), absl::StrCat(f.Prefix(), "expected a number, got ", got));
  }
  std::string_view s = f.value.Scalar();
  std::string lowered;
  for (char c : s) lowered.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
  if (lowered == ".inf" || lowered == "+.inf" || lowered == "-.inf" || lowered == ".nan") {
    return file.Error(f.mark(),
                      absl::StrCat(f.Prefix(), "must be a finite number, got ", f.value.Scalar()));
  }
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
      !std::isfinite(value)) {
    return file.Error(f.mark(),
                      absl::StrCat(f.Prefix(), "expected a number, got ", Describe(f.value)));
  }
  return value;
}

absl::StatusOr<int64_t> ReadInt(const YamlFile& file, const Field& f) {
  if (f.value.IsScalar() && !IsQuoted(f.value)) {
    std::string_view digits = f.value.Scalar();
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
      return value;
    }
  }
  const std::string got = f.value.IsScalar() && IsQuoted(f.value)
                              ? absl::StrCat("the string ", Quote(f.value.Scalar()))
                              : Describe(f.value);
  return file.Error(f.mark(), absl::StrCat(f.Prefix(), "expected an integer, got ", got));
}

// Reads a list of non-empty strings.
absl::StatusOr<std::vector<std::string>> ReadStringList(const YamlFile& file, const Field& f) {
  if (!f.value.IsSequence()) {
    return file.Error(
        f.mark(), absl::StrCat(f.Prefix(), "expected a list of strings, got ", Describe(f.value)));
  }
  std::vector<std::string> out;
  for (const YAML::Node& item : f.value) {
    BONAFIDE_ASSIGN_OR_RETURN(std::string s, ReadNonEmptyString(file, Item(f.name, item)));
    out.push_back(std::move(s));
  }
  return out;
}

// Reads a number with a lower bound (inclusive or exclusive) and optional upper bound.
absl::StatusOr<double> ReadNumberAtLeast(const YamlFile& file, const Field& f, double min,
                                         bool inclusive) {
  BONAFIDE_ASSIGN_OR_RETURN(double v, ReadNumber(file, f));
  if (inclusive ? v < min : v <= min) {
    return file.Error(f.mark(), absl::StrCat(f.name, " must be ", inclusive ? ">= " : "> ", min,
                                             ", got ", f.value.Scalar()));
  }
  return v;
}

absl::StatusOr<int> ReadIntInRange(const YamlFile& file, const Field& f, int min, int max) {
  BONAFIDE_ASSIGN_OR_RETURN(int64_t v, ReadInt(file, f));
  if (v < min || v > max) {
    return file.Error(
        f.mark(), absl::StrCat(f.name, " must be in ", min, "..", max, ", got ", f.value.Scalar()));
  }
  return static_cast<int>(v);
}

Field RootField(const YamlFile& file) { return Field{"", YAML::Mark::null_mark(), file.root()}; }

// Returns the root mapping of `file`; an empty file counts as an empty mapping.
absl::StatusOr<Mapping> ReadRoot(const YamlFile& file,
                                 const std::vector<std::string_view>& allowed) {
  if (file.root().IsNull()) {
    return Mapping::Read(file, Field{"", YAML::Mark::null_mark(), YAML::Node(YAML::NodeType::Map)},
                         allowed);
  }
  if (!file.root().IsMap()) {
    return file.Error(
        file.root().Mark(),
        absl::StrCat("expected a mapping at the top of the file, got ", Describe(file.root())));
  }
  return Mapping::Read(file, RootField(file), allowed);
}

// ---------------------------------------------------------------------------------------
// policy.yaml

absl::StatusOr<Policy> LoadPolicy(const fs::path& path) {
  BONAFIDE_ASSIGN_OR_RETURN(YamlFile file, YamlFile::Load(path));
  BONAFIDE_ASSIGN_OR_RETURN(
      Mapping root, ReadRoot(file, {"currency", "fx_date", "fx", "threshold", "weights", "image"}));
  Policy policy;
  if (auto f = root.Get("currency")) {
    BONAFIDE_ASSIGN_OR_RETURN(policy.currency, ReadString(file, *f));
    if (!IsCurrencyCode(policy.currency)) {
      return file.Error(f->mark(), absl::StrCat("currency must be 3 upper-case letters "
                                                "(ISO 4217), got ",
                                                Quote(policy.currency)));
    }
  }
  if (auto f = root.Get("fx_date")) {
    BONAFIDE_ASSIGN_OR_RETURN(policy.fx_date, ReadString(file, *f));
    if (!IsIsoDate(policy.fx_date)) {
      return file.Error(f->mark(), absl::StrCat("fx_date must be a date YYYY-MM-DD, got ",
                                                Quote(policy.fx_date)));
    }
  }
  if (auto f = root.Get("fx")) {
    BONAFIDE_ASSIGN_OR_RETURN(Mapping fx, Mapping::Read(file, *f, {}, "fx."));
    for (const Field& rate_field : fx.All()) {
      const std::string code = rate_field.name.substr(3);
      if (!IsCurrencyCode(code)) {
        return file.Error(rate_field.key_mark,
                          absl::StrCat("fx currency must be 3 upper-case letters (ISO 4217), "
                                       "got ",
                                       Quote(code)));
      }
      BONAFIDE_ASSIGN_OR_RETURN(double rate,
                                ReadNumberAtLeast(file, rate_field, 0, /*inclusive=*/false));
      if (code == policy.currency && rate != 1.0) {
        return file.Error(rate_field.mark(),
                          absl::StrCat("fx rate of the base currency ", code, " must be 1, got ",
                                       rate_field.value.Scalar()));
      }
      policy.fx[code] = rate;
    }
  }
  policy.fx[policy.currency] = 1.0;
  if (auto f = root.Get("threshold")) {
    BONAFIDE_ASSIGN_OR_RETURN(policy.threshold,
                              ReadNumberAtLeast(file, *f, 0, /*inclusive=*/false));
  }
  if (auto f = root.Get("weights")) {
    BONAFIDE_ASSIGN_OR_RETURN(Mapping w, Mapping::Read(file, *f,
                                                       {"cue", "price", "image", "obfuscated_brand",
                                                        "known_counterfeit_photo", "seller_record"},
                                                       "weights."));
    const std::pair<const char*, double*> kWeights[] = {
        {"cue", &policy.weights.cue},
        {"price", &policy.weights.price},
        {"image", &policy.weights.image},
        {"obfuscated_brand", &policy.weights.obfuscated_brand},
        {"known_counterfeit_photo", &policy.weights.known_counterfeit_photo},
        {"seller_record", &policy.weights.seller_record}};
    for (const auto& [key, out] : kWeights) {
      if (auto wf = w.Get(key)) {
        BONAFIDE_ASSIGN_OR_RETURN(*out, ReadNumberAtLeast(file, *wf, 0, /*inclusive=*/true));
      }
    }
  }
  if (auto f = root.Get("image")) {
    BONAFIDE_ASSIGN_OR_RETURN(Mapping image,
                              Mapping::Read(file, *f, {"max_distance", "min_quality"}, "image."));
    if (auto g = image.Get("max_distance")) {
      BONAFIDE_ASSIGN_OR_RETURN(policy.image.max_distance, ReadIntInRange(file, *g, 0, 256));
    }
    if (auto g = image.Get("min_quality")) {
      BONAFIDE_ASSIGN_OR_RETURN(policy.image.min_quality, ReadIntInRange(file, *g, 0, 100));
    }
  }
  return policy;
}

// ---------------------------------------------------------------------------------------
// cues.yaml

absl::StatusOr<RuleMode> ParseMode(const YamlFile& file, const Field& f) {
  BONAFIDE_ASSIGN_OR_RETURN(std::string mode, ReadString(file, f));
  if (mode == "enforce") return RuleMode::kEnforce;
  if (mode == "shadow") return RuleMode::kShadow;
  if (mode == "off") return RuleMode::kOff;
  std::string message = absl::StrCat("mode must be enforce, shadow or off, got ", Quote(mode));
  if (auto hint = DidYouMean(mode, {"enforce", "shadow", "off"})) {
    absl::StrAppend(&message, " (did you mean ", Quote(std::string(*hint)), "?)");
  }
  return file.Error(f.mark(), message);
}

// Sets `id_mark` to the position of the rule's id (for duplicate id errors).
absl::StatusOr<CueRule> ParseCueRule(const YamlFile& file, const Field& item, const Policy& policy,
                                     YAML::Mark& id_mark) {
  BONAFIDE_ASSIGN_OR_RETURN(Mapping m, Mapping::Read(file, item,
                                                     {"id", "version", "mode", "phrases", "regex",
                                                      "weight", "examples"}));
  CueRule rule;
  rule.location = file.Locate(m.mark());
  rule.weight = policy.weights.cue;

  BONAFIDE_ASSIGN_OR_RETURN(Field id, m.Require(file, "id"));
  BONAFIDE_ASSIGN_OR_RETURN(rule.id, ReadString(file, id));
  id_mark = id.mark();
  if (!IsRuleId(rule.id)) {
    return file.Error(id.mark(), absl::StrCat("invalid cue rule id ", Quote(rule.id),
                                              " (allowed: a-z, 0-9, '.', '_' and '-')"));
  }
  if (std::find(std::begin(kSignalNames), std::end(kSignalNames), rule.id) !=
      std::end(kSignalNames)) {
    return file.Error(id.mark(), absl::StrCat("cue rule id ", Quote(rule.id),
                                              " is reserved: it names the built-in ", rule.id,
                                              " signal in reasons and the summary"));
  }
  const std::string in_rule = absl::StrCat("rule ", Quote(rule.id), ": ");

  if (auto f = m.Get("version")) {
    BONAFIDE_ASSIGN_OR_RETURN(int64_t version, ReadInt(file, *f));
    if (version < 1 || version > INT32_MAX) {
      return file.Error(
          f->mark(), absl::StrCat("version must be a positive integer, got ", f->value.Scalar()));
    }
    rule.version = static_cast<int>(version);
  }
  if (auto f = m.Get("mode")) {
    BONAFIDE_ASSIGN_OR_RETURN(rule.mode, ParseMode(file, *f));
  }
  if (auto f = m.Get("phrases")) {
    BONAFIDE_ASSIGN_OR_RETURN(rule.phrases, ReadStringList(file, *f));
  }
  std::optional<Field> regex_field = m.Get("regex");
  if (regex_field) {
    BONAFIDE_ASSIGN_OR_RETURN(rule.regex, ReadString(file, *regex_field));
    if (rule.regex.empty()) {
      return file.Error(regex_field->mark(), absl::StrCat(in_rule, "regex must not be empty"));
    }
  }
  if (!rule.phrases.empty() && regex_field) {
    return file.Error(regex_field->key_mark,
                      absl::StrCat(in_rule, "has both phrases and regex (use one)"));
  }
  if (rule.phrases.empty() && !regex_field) {
    return file.Error(m.mark(), absl::StrCat(in_rule, "needs non-empty phrases or a regex"));
  }
  if (regex_field) {
    RE2::Options options;
    options.set_log_errors(false);
    const RE2 re(rule.regex, options);
    if (!re.ok()) {
      return file.Error(regex_field->mark(), absl::StrCat(in_rule, "invalid regex: ", re.error()));
    }
    if (RE2::PartialMatch("", re)) {
      return file.Error(regex_field->mark(),
                        absl::StrCat(in_rule, "regex matches the empty string"));
    }
  }
  if (auto f = m.Get("weight")) {
    BONAFIDE_ASSIGN_OR_RETURN(rule.weight, ReadNumberAtLeast(file, *f, 0, /*inclusive=*/true));
  }
  if (auto f = m.Get("examples")) {
    BONAFIDE_ASSIGN_OR_RETURN(Mapping ex,
                              Mapping::Read(file, *f, {"match", "no_match"}, "examples."));
    if (auto g = ex.Get("match")) {
      BONAFIDE_ASSIGN_OR_RETURN(rule.examples_match, ReadStringList(file, *g));
    }
    if (auto g = ex.Get("no_match")) {
      BONAFIDE_ASSIGN_OR_RETURN(rule.examples_no_match, ReadStringList(file, *g));
    }
  }
  return rule;
}

absl::Status LoadCues(const fs::path& path, const Policy& policy, std::vector<CueRule>& cues) {
  BONAFIDE_ASSIGN_OR_RETURN(YamlFile file, YamlFile::Load(path));
  BONAFIDE_ASSIGN_OR_RETURN(Mapping root, ReadRoot(file, {"rules"}));
  std::optional<Field> rules = root.Get("rules");
  if (!rules) return absl::OkStatus();
  if (!rules->value.IsSequence()) {
    return file.Error(rules->mark(),
                      absl::StrCat("rules: expected a list, got ", Describe(rules->value)));
  }
  std::map<std::string, SourceLocation> seen;
  for (const YAML::Node& item : rules->value) {
    YAML::Mark id_mark;
    BONAFIDE_ASSIGN_OR_RETURN(CueRule rule, ParseCueRule(file, Item("", item), policy, id_mark));
    auto [it, inserted] = seen.emplace(rule.id, rule.location);
    if (!inserted) {
      return file.Error(
          id_mark, absl::StrCat("duplicate cue rule id ", Quote(rule.id), " (first defined at ",
                                FormatLocation(it->second), ")"));
    }
    cues.push_back(std::move(rule));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// context.yaml

absl::StatusOr<Context> LoadContext(const fs::path& path) {
  BONAFIDE_ASSIGN_OR_RETURN(YamlFile file, YamlFile::Load(path));
  BONAFIDE_ASSIGN_OR_RETURN(Mapping root, ReadRoot(file, {"compatibility", "accessories", "bundle",
                                                          "used", "packaging_only"}));
  Context context;
  context.location = file.Locate(file.root().Mark());
  const std::pair<const char*, std::vector<std::string>*> kLists[] = {
      {"compatibility", &context.compatibility},
      {"accessories", &context.accessories},
      {"bundle", &context.bundle},
      {"used", &context.used},
      {"packaging_only", &context.packaging_only}};
  for (const auto& [key, out] : kLists) {
    if (auto f = root.Get(key)) {
      BONAFIDE_ASSIGN_OR_RETURN(*out, ReadStringList(file, *f));
    }
  }
  return context;
}

// ---------------------------------------------------------------------------------------
// rights_holders/<id>.yaml

absl::StatusOr<Money> ParseMoney(const YamlFile& file, const Field& f, const Policy& policy) {
  BONAFIDE_ASSIGN_OR_RETURN(Mapping m,
                            Mapping::Read(file, f, {"amount", "currency"}, f.name + "."));
  Money money;
  BONAFIDE_ASSIGN_OR_RETURN(Field amount, m.Require(file, "amount"));
  BONAFIDE_ASSIGN_OR_RETURN(money.amount, ReadNumberAtLeast(file, amount, 0, /*inclusive=*/false));
  BONAFIDE_ASSIGN_OR_RETURN(Field currency, m.Require(file, "currency"));
  BONAFIDE_ASSIGN_OR_RETURN(money.currency, ReadString(file, currency));
  if (!policy.fx.contains(money.currency)) {
    std::vector<std::string> known;
    for (const auto& [code, rate] : policy.fx) known.push_back(code);
    return file.Error(currency.mark(), absl::StrCat(currency.name, " ", Quote(money.currency),
                                                    " is not in policy fx (known: ",
                                                    absl::StrJoin(known, ", "), ")"));
  }
  return money;
}

// Reads the `exclude` and `examples` fields a brand and a product share.
absl::Status ParseMentionFields(const YamlFile& file, const Mapping& m,
                                std::vector<std::string>& exclude, MentionExamples& examples) {
  if (auto f = m.Get("exclude")) {
    BONAFIDE_ASSIGN_OR_RETURN(exclude, ReadStringList(file, *f));
    for (const std::string& phrase : exclude) {
      if (phrase.empty()) return file.Error(f->mark(), "exclude: a phrase is empty");
    }
  }
  if (auto f = m.Get("examples")) {
    BONAFIDE_ASSIGN_OR_RETURN(Mapping ex,
                              Mapping::Read(file, *f, {"match", "no_match"}, "examples."));
    if (auto g = ex.Get("match")) {
      BONAFIDE_ASSIGN_OR_RETURN(examples.match, ReadStringList(file, *g));
    }
    if (auto g = ex.Get("no_match")) {
      BONAFIDE_ASSIGN_OR_RETURN(examples.no_match, ReadStringList(file, *g));
    }
  }
  return absl::OkStatus();
}

// Sets `id_mark` to the position of the product's id (for duplicate id errors).
absl::StatusOr<Product> ParseProduct(const YamlFile& file, const Field& item, const Policy& policy,
                                     const fs::path& folder, YAML::Mark& id_mark) {
  BONAFIDE_ASSIGN_OR_RETURN(Mapping m,
                            Mapping::Read(file, item,
                                          {"id", "name", "keywords", "category", "reference_price",
                                           "min_price_ratio", "images", "exclude", "examples"}));
  Product product;
  product.location = file.Locate(m.mark());
  BONAFIDE_ASSIGN_OR_RETURN(Field id, m.Require(file, "id"));
  BONAFIDE_ASSIGN_OR_RETURN(product.id, ReadString(file, id));
  id_mark = id.mark();
  if (!IsRuleId(product.id)) {
    return file.Error(id.mark(), absl::StrCat("invalid product id ", Quote(product.id),
                                              " (allowed: a-z, 0-9, '.', '_' and '-')"));
  }
  BONAFIDE_ASSIGN_OR_RETURN(Field name, m.Require(file, "name"));
  BONAFIDE_ASSIGN_OR_RETURN(product.name, ReadNonEmptyString(file, name));
  if (auto f = m.Get("keywords")) {
    BONAFIDE_ASSIGN_OR_RETURN(product.keywords, ReadStringList(file, *f));
  }
  if (auto f = m.Get("category")) {
    BONAFIDE_ASSIGN_OR_RETURN(product.category, ReadString(file, *f));
  }
  if (auto f = m.Get("reference_price")) {
    BONAFIDE_ASSIGN_OR_RETURN(product.reference_price, ParseMoney(file, *f, policy));
  }
  if (auto f = m.Get("min_price_ratio")) {
    BONAFIDE_ASSIGN_OR_RETURN(double ratio, ReadNumber(file, *f));
    if (!(ratio > 0 && ratio <= 1)) {
      return file.Error(f->mark(),
                        absl::StrCat("min_price_ratio must be in (0, 1], got ", f->value.Scalar()));
    }
    if (!product.reference_price) {
      return file.Error(f->key_mark, "min_price_ratio requires reference_price");
    }
    product.min_price_ratio = ratio;
  }
  if (auto f = m.Get("images")) {
    if (!f->value.IsSequence()) {
      return file.Error(
          f->mark(), absl::StrCat("images: expected a list of strings, got ", Describe(f->value)));
    }
    for (const YAML::Node& node : f->value) {
      const Field image_field = Item("images", node);
      BONAFIDE_ASSIGN_OR_RETURN(std::string image, ReadNonEmptyString(file, image_field));
      fs::path resolved(image);
      if (resolved.is_relative()) resolved = folder / resolved;
      std::error_code ec;
      const fs::file_status status = fs::status(resolved, ec);
      if (!fs::exists(status)) {
        return file.Error(image_field.mark(),
                          absl::StrCat("image ", Quote(image), " not found (looked for ",
                                       Quote(resolved.string()), ")"));
      }
      if (!fs::is_regular_file(status)) {
        return file.Error(image_field.mark(),
                          absl::StrCat("image ", Quote(image), " is not a regular file (",
                                       Quote(resolved.string()), ")"));
      }
      product.images.push_back(resolved.string());
    }
  }
  BONAFIDE_RETURN_IF_ERROR(ParseMentionFields(file, m, product.exclude, product.examples));
  return product;
}

absl::StatusOr<Brand> ParseBrand(const YamlFile& file, const Field& item) {
  BONAFIDE_ASSIGN_OR_RETURN(Mapping m,
                            Mapping::Read(file, item, {"name", "aliases", "exclude", "examples"}));
  Brand brand;
  brand.location = file.Locate(m.mark());
  BONAFIDE_ASSIGN_OR_RETURN(Field name, m.Require(file, "name"));
  BONAFIDE_ASSIGN_OR_RETURN(brand.name, ReadNonEmptyString(file, name));
  if (auto f = m.Get("aliases")) {
    BONAFIDE_ASSIGN_OR_RETURN(brand.aliases, ReadStringList(file, *f));
  }
  BONAFIDE_RETURN_IF_ERROR(ParseMentionFields(file, m, brand.exclude, brand.examples));
  return brand;
}

absl::StatusOr<RightsHolder> LoadRightsHolder(const fs::path& path, const Policy& policy,
                                              std::map<std::string, SourceLocation>& product_ids) {
  BONAFIDE_ASSIGN_OR_RETURN(YamlFile file, YamlFile::Load(path));
  BONAFIDE_ASSIGN_OR_RETURN(Mapping root, ReadRoot(file, {"id", "name", "threshold", "brands",
                                                          "authorized_sellers", "products"}));
  RightsHolder holder;
  holder.location = file.Locate(file.root().Mark());

  BONAFIDE_ASSIGN_OR_RETURN(Field id, root.Require(file, "id"));
  BONAFIDE_ASSIGN_OR_RETURN(holder.id, ReadString(file, id));
  if (!IsRightsHolderId(holder.id)) {
    return file.Error(id.mark(), absl::StrCat("invalid rights holder id ", Quote(holder.id),
                                              " (allowed: a-z, 0-9, '_' and '-')"));
  }
  const std::string stem = path.stem().string();
  if (holder.id != stem) {
    return file.Error(
        id.mark(),
        absl::StrCat("rights holder id ", Quote(holder.id), " does not match the file name ",
                     Quote(path.filename().string()), " (expected ", Quote(stem), ")"));
  }
  BONAFIDE_ASSIGN_OR_RETURN(Field name, root.Require(file, "name"));
  BONAFIDE_ASSIGN_OR_RETURN(holder.name, ReadNonEmptyString(file, name));
  if (auto f = root.Get("threshold")) {
    BONAFIDE_ASSIGN_OR_RETURN(holder.threshold,
                              ReadNumberAtLeast(file, *f, 0, /*inclusive=*/false));
  }

  BONAFIDE_ASSIGN_OR_RETURN(Field brands, root.Require(file, "brands"));
  if (!brands.value.IsSequence()) {
    return file.Error(brands.mark(),
                      absl::StrCat("brands: expected a list, got ", Describe(brands.value)));
  }
  if (brands.value.size() == 0) {
    return file.Error(brands.mark(), "brands must not be empty");
  }
  for (const YAML::Node& node : brands.value) {
    BONAFIDE_ASSIGN_OR_RETURN(Brand brand, ParseBrand(file, Item("brands", node)));
    holder.brands.push_back(std::move(brand));
  }

  if (auto f = root.Get("authorized_sellers")) {
    BONAFIDE_ASSIGN_OR_RETURN(holder.authorized_sellers, ReadStringList(file, *f));
  }

  if (auto f = root.Get("products")) {
    if (!f->value.IsSequence()) {
      return file.Error(f->mark(),
                        absl::StrCat("products: expected a list, got ", Describe(f->value)));
    }
    const fs::path folder = path.parent_path();
    for (const YAML::Node& node : f->value) {
      YAML::Mark id_mark;
      BONAFIDE_ASSIGN_OR_RETURN(
          Product product, ParseProduct(file, Item("products", node), policy, folder, id_mark));
      auto [it, inserted] = product_ids.emplace(product.id, product.location);
      if (!inserted) {
        return file.Error(
            id_mark, absl::StrCat("duplicate product id ", Quote(product.id), " (first defined at ",
                                  FormatLocation(it->second), ")"));
      }
      holder.products.push_back(std::move(product));
    }
  }
  return holder;
}

// Returns whether `path` is a regular file; an error when it exists as something else.
absl::StatusOr<bool> OptionalFile(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) return false;
  if (!fs::is_regular_file(status)) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a regular file"));
  }
  return true;
}

// Warns about each file of rights_holders/ that is not read, unless it is a genuine photo
// of some product (photos may sit beside the rights holder files).
void WarnAboutOtherFiles(const std::vector<fs::path>& files, RulePack& pack) {
  std::vector<fs::path> photos;
  for (const RightsHolder& holder : pack.rights_holders) {
    for (const Product& product : holder.products) {
      for (const std::string& image : product.images) {
        photos.push_back(fs::path(image).lexically_normal());
      }
    }
  }
  for (const fs::path& file : files) {
    if (std::find(photos.begin(), photos.end(), file.lexically_normal()) != photos.end()) {
      continue;
    }
    pack.warnings.push_back(RulesWarning{
        SourceLocation{file.string(), 0, 0},
        "not read: rights holder files end in .yaml or .yml (move other files elsewhere)"});
  }
}

// Warns when rights holders share a brand name or alias. Names are compared in the form
// that matching uses (rules/normalize.h), so "Nike", "NIKE" and "N i k e" are one name:
// a listing that names it is judged for each of them, and each can get a case.
void WarnAboutSharedBrands(RulePack& pack) {
  struct Claim {
    const RightsHolder* holder;
    const Brand* brand;
    const std::string* name;
  };
  std::map<std::string, Claim> first_claim;  // by normalised name
  std::vector<std::pair<std::string, const RightsHolder*>> warned;
  for (const RightsHolder& holder : pack.rights_holders) {
    for (const Brand& brand : holder.brands) {
      std::vector<const std::string*> names = {&brand.name};
      for (const std::string& alias : brand.aliases) names.push_back(&alias);
      for (const std::string* name : names) {
        std::string key = Normalize(*name);
        if (key.empty()) continue;
        const auto [it, inserted] = first_claim.emplace(key, Claim{&holder, &brand, name});
        const Claim& first = it->second;
        if (inserted || first.holder == &holder) continue;
        const std::pair<std::string, const RightsHolder*> pair(std::move(key), &holder);
        if (std::find(warned.begin(), warned.end(), pair) != warned.end()) continue;
        warned.push_back(pair);
        pack.warnings.push_back(RulesWarning{
            brand.location,
            absl::StrCat("brand ", Quote(*name), " of rights holder ", Quote(holder.id),
                         " is also claimed by rights holder ", Quote(first.holder->id), " (",
                         FormatLocation(first.brand->location), ", as ", Quote(*first.name),
                         "): a listing that names it can open a case for both")});
      }
    }
  }
}

// Warns about `\s` in cue regexes. The text a regex runs on has one space between words
// and no other white space, so `\s` only ever matches a space; and an unbounded `\s*` or
// `\s+` keeps Hyperscan off its literal matcher (one such regex was a third of the
// description scan's time; bench/RESULTS.md).
void WarnAboutWhiteSpaceInRegexes(RulePack& pack) {
  for (const CueRule& rule : pack.cues) {
    bool white_space = false;
    for (size_t i = 0; i + 1 < rule.regex.size(); ++i) {
      if (rule.regex[i] != '\\') continue;
      white_space |= rule.regex[i + 1] == 's';
      ++i;  // the escaped character
    }
    if (!white_space) continue;
    pack.warnings.push_back(RulesWarning{
        rule.location,
        absl::StrCat("rule ", Quote(rule.id),
                     ": \\s in the regex only ever matches a space (the normalised text has one "
                     "between words and no other white space); write \" \" or \" ?\": \\s* "
                     "and \\s+ make every scan slower")});
  }
}

absl::StatusOr<RulePack> LoadRulePackImpl(std::string_view directory) {
  const fs::path dir{std::string(directory)};
  std::error_code ec;
  const fs::file_status dir_status = fs::status(dir, ec);
  if (!fs::exists(dir_status)) {
    return absl::NotFoundError(absl::StrCat("rules directory ", Quote(dir.string()), " not found"));
  }
  if (!fs::is_directory(dir_status)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rules directory ", Quote(dir.string()), " is not a directory"));
  }

  RulePack pack;
  pack.directory = std::string(directory);

  const fs::path policy_path = dir / "policy.yaml";
  BONAFIDE_ASSIGN_OR_RETURN(bool has_policy, OptionalFile(policy_path));
  if (!has_policy) {
    return absl::NotFoundError(absl::StrCat(policy_path.string(), ": required file not found"));
  }
  BONAFIDE_ASSIGN_OR_RETURN(pack.policy, LoadPolicy(policy_path));

  const fs::path cues_path = dir / "cues.yaml";
  BONAFIDE_ASSIGN_OR_RETURN(bool has_cues, OptionalFile(cues_path));
  if (has_cues) BONAFIDE_RETURN_IF_ERROR(LoadCues(cues_path, pack.policy, pack.cues));

  const fs::path context_path = dir / "context.yaml";
  BONAFIDE_ASSIGN_OR_RETURN(bool has_context, OptionalFile(context_path));
  if (has_context) {
    BONAFIDE_ASSIGN_OR_RETURN(pack.context, LoadContext(context_path));
  }

  const fs::path holders_dir = dir / "rights_holders";
  std::vector<fs::path> holder_files;
  std::vector<fs::path> other_files;  // regular files that are neither rules nor dot files
  if (fs::is_directory(holders_dir, ec)) {
    for (fs::directory_iterator it(holders_dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.filename().string().front() == '.') continue;  // editor and version-control files
      if (!it->is_regular_file(ec)) continue;              // folders hold genuine photos
      if (p.extension() == ".yaml" || p.extension() == ".yml") {
        holder_files.push_back(p);
      } else {
        other_files.push_back(p);
      }
    }
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat(holders_dir.string(), ": cannot list directory: ", ec.message()));
    }
  }
  if (holder_files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(holders_dir.string(),
                     ": no rights holder files (at least one *.yaml or *.yml is required)"));
  }
  std::sort(holder_files.begin(), holder_files.end());
  // A rights holder's id is its file name's stem, so acme.yaml beside acme.yml is one
  // rights holder defined twice (sorted, the two are neighbours).
  for (size_t i = 1; i < holder_files.size(); ++i) {
    if (holder_files[i].stem() == holder_files[i - 1].stem()) {
      return absl::InvalidArgumentError(absl::StrCat(
          holder_files[i].string(), ": rights holder ", Quote(holder_files[i].stem().string()),
          " is also defined by ", holder_files[i - 1].string(), " (keep one of the two files)"));
    }
  }
  std::map<std::string, SourceLocation> product_ids;
  for (const fs::path& p : holder_files) {
    BONAFIDE_ASSIGN_OR_RETURN(RightsHolder holder, LoadRightsHolder(p, pack.policy, product_ids));
    pack.rights_holders.push_back(std::move(holder));
  }
  WarnAboutOtherFiles(other_files, pack);
  WarnAboutSharedBrands(pack);
  WarnAboutWhiteSpaceInRegexes(pack);
  // Already in file-name order, which is id order; sorting states the contract.
  std::sort(pack.rights_holders.begin(), pack.rights_holders.end(),
            [](const RightsHolder& a, const RightsHolder& b) { return a.id < b.id; });
  return pack;
}

}  // namespace

std::string FormatLocation(const SourceLocation& location) {
  return absl::StrCat(location.file, ":", location.line, ":", location.column);
}

std::string FormatWarning(const RulesWarning& warning) {
  if (warning.location.line == 0) {
    return absl::StrCat(warning.location.file, ": warning: ", warning.message);
  }
  return absl::StrCat(FormatLocation(warning.location), ": warning: ", warning.message);
}

absl::StatusOr<RulePack> LoadRulePack(std::string_view directory) {
  // yaml-cpp and std::filesystem report some failures by exceptions; none may cross the API.
  try {
    return LoadRulePackImpl(directory);
  } catch (const YAML::Exception& e) {
    return absl::InternalError(absl::StrCat("yaml-cpp: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("loading rules: ", e.what()));
  }
}

}  // namespace bonafide::rules
