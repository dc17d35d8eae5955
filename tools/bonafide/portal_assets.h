// The portal's web page (the files of tools/bonafide/portal/), embedded into the binary at
// build time by cmake/EmbedFiles.cmake, so that `bonafide serve` needs no file and no
// network to serve it.
#ifndef BONAFIDE_TOOLS_BONAFIDE_PORTAL_ASSETS_H_
#define BONAFIDE_TOOLS_BONAFIDE_PORTAL_ASSETS_H_

#include <span>

#include "engine/portal_api.h"

namespace bonafide::cli {

// Every file of tools/bonafide/portal/, by name relative to it; static storage.
std::span<const engine::PortalAsset> PortalAssets();

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_PORTAL_ASSETS_H_
