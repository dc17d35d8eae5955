// Generated listing dumps for the end-to-end tests: the labelled generator
// (tools/gen/listing_generator.h) on the bundled rules, written to a file.
#ifndef BONAFIDE_TESTS_GENERATED_DUMP_H_
#define BONAFIDE_TESTS_GENERATED_DUMP_H_

#include <cstdio>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "rules/rule_pack.h"
#include "tools/gen/listing_generator.h"

namespace bonafide::testing {

// Writes the listings `options` asks for, generated from examples/rules, to `path`, then
// `trailer` as is (e.g. a few bad lines). Fails the calling test on any error.
inline void WriteGeneratedDump(const std::string& path, const gen::GeneratorOptions& options,
                               std::string_view trailer = {}) {
  auto pack = rules::LoadRulePack(std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules");
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto generator = gen::ListingGenerator::Create(*pack, options);
  ASSERT_TRUE(generator.ok()) << generator.status();
  std::FILE* out = std::fopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr) << path;
  const bool generated =
      (*generator)
          ->Generate(
              [out](std::string_view chunk) {
                return std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size();
              },
              nullptr)
          .ok();
  // An empty view's data() may be null, which fwrite must not get even for 0 bytes.
  const bool trailed =
      trailer.empty() || std::fwrite(trailer.data(), 1, trailer.size(), out) == trailer.size();
  const bool closed = std::fclose(out) == 0;
  ASSERT_TRUE(generated && trailed && closed) << path;
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_GENERATED_DUMP_H_
