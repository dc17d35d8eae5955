// bonafide token create|list|revoke: the portal's access tokens (docs/portal.md).
//   bonafide token create --outbox OUTBOX (--rights-holder ID | --admin)
//   bonafide token list --outbox OUTBOX
//   bonafide token revoke --outbox OUTBOX PREFIX
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "bonafide/outbox.h"
#include "engine/portal_tokens.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"

namespace bonafide::cli {
namespace {

constexpr char kExitStatus[] =
    "0  done\n"
    "1  no outbox there, no such token, or the outbox could not be read or written\n"
    "2  bad usage";

int Fail(const char* command, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", command, std::string(status.message()).c_str());
  return kExitFailure;
}

absl::StatusOr<std::unique_ptr<Outbox>> OpenExisting(const std::string& path, OutboxAccess access) {
  if (!OutboxExists(path)) return absl::NotFoundError(absl::StrCat("no outbox at \"", path, "\""));
  return OpenOutbox(path, access);
}

// A rights holder id as the rules write it: no spaces or control characters.
bool IsPlainId(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

int Create(int argc, char** argv) {
  std::string outbox_path, rights_holder;
  bool admin = false;
  FlagSet flags("bonafide token create", "--outbox OUTBOX (--rights-holder ID | --admin)",
                "Creates a portal token and prints it on stdout, once: only its SHA-256 is\n"
                "stored. A rights holder's token sees and answers that holder's cases only;\n"
                "an admin token sees every rights holder's.",
                kExitStatus);
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI; required)",
               &outbox_path);
  flags.String("rights-holder", "the rights holder id (as in the rules)", &rights_holder);
  flags.Bool("admin", "a token for every rights holder", &admin);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  if (outbox_path.empty()) return flags.UsageError("need --outbox OUTBOX");
  if (admin == !rights_holder.empty()) {
    return flags.UsageError("need exactly one of --rights-holder ID and --admin");
  }
  if (!admin && !IsPlainId(rights_holder)) {
    return flags.UsageError("--rights-holder takes an id without spaces or control characters");
  }
  auto outbox = OpenExisting(outbox_path, OutboxAccess::kReadWrite);
  if (!outbox.ok()) return Fail("bonafide token create", outbox.status());
  absl::StatusOr<std::string> token = engine::CreateToken(
      **outbox, admin ? std::nullopt : std::optional<std::string>(rights_holder));
  if (!token.ok()) return Fail("bonafide token create", token.status());
  std::printf("%s\n", token->c_str());
  std::fprintf(stderr,
               "token %s for %s created; it is shown only this once (revoke with `bonafide "
               "token revoke --outbox %s %s`)\n",
               token->substr(0, engine::kTokenPrefixLength).c_str(),
               admin ? "every rights holder (admin)" : rights_holder.c_str(), outbox_path.c_str(),
               token->substr(0, engine::kTokenPrefixLength).c_str());
  return kExitOk;
}

int List(int argc, char** argv) {
  std::string outbox_path;
  FlagSet flags("bonafide token list", "--outbox OUTBOX",
                "Lists the portal tokens: prefix, rights holder (or admin), when created and\n"
                "revoked. Tokens themselves are never stored, so never shown.",
                kExitStatus);
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI; required)",
               &outbox_path);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  if (outbox_path.empty()) return flags.UsageError("need --outbox OUTBOX");
  auto outbox = OpenExisting(outbox_path, OutboxAccess::kReadOnly);
  if (!outbox.ok()) return Fail("bonafide token list", outbox.status());
  absl::StatusOr<std::vector<StoredToken>> tokens = (*outbox)->ListTokens();
  if (!tokens.ok()) return Fail("bonafide token list", tokens.status());
  std::string out;
  for (const StoredToken& t : *tokens) {
    absl::StrAppend(&out, t.prefix, "  ", t.rights_holder ? *t.rights_holder : "(admin)",
                    "  created ", t.created_at,
                    t.revoked_at ? absl::StrCat("  revoked ", *t.revoked_at) : "", "\n");
  }
  if (tokens->empty()) out = "no tokens\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int Revoke(int argc, char** argv) {
  std::string outbox_path;
  FlagSet flags("bonafide token revoke", "--outbox OUTBOX PREFIX",
                "Revokes the portal token with this prefix (as `bonafide token list` shows\n"
                "it): its next request, and every session opened with it, gets 401.",
                kExitStatus);
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI; required)",
               &outbox_path);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (outbox_path.empty()) return flags.UsageError("need --outbox OUTBOX");
  if (positional.size() != 1) return flags.UsageError("need the token's PREFIX");
  // A whole token pasted in place of its prefix names the same token.
  const std::string prefix = positional[0].substr(0, engine::kTokenPrefixLength);
  auto outbox = OpenExisting(outbox_path, OutboxAccess::kReadWrite);
  if (!outbox.ok()) return Fail("bonafide token revoke", outbox.status());
  if (absl::Status s = (*outbox)->RevokeToken(prefix); !s.ok()) {
    return Fail("bonafide token revoke", s);
  }
  std::printf("revoked %s\n", prefix.c_str());
  return kExitOk;
}

}  // namespace

int TokenCommand(int argc, char** argv) {
  const std::string usage =
      "usage: bonafide token create --outbox OUTBOX (--rights-holder ID | --admin)\n"
      "       bonafide token list --outbox OUTBOX\n"
      "       bonafide token revoke --outbox OUTBOX PREFIX\n";
  if (argc < 2) {
    std::fputs(usage.c_str(), stderr);
    return kExitUsage;
  }
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h") {
    std::fputs(usage.c_str(), stdout);
    return kExitOk;
  }
  if (sub == "create") return Create(argc - 1, argv + 1);
  if (sub == "list") return List(argc - 1, argv + 1);
  if (sub == "revoke") return Revoke(argc - 1, argv + 1);
  std::fprintf(stderr, "bonafide token: unknown subcommand \"%s\"\n%s", sub.c_str(), usage.c_str());
  return kExitUsage;
}

}  // namespace bonafide::cli
