#pragma once
// The page's files (lbctl/serve/assets/), compiled in at build time.

#include <string_view>
#include <vector>

namespace lbctl::serve {

struct Asset {
  std::string_view name;  // "app.js"
  std::string_view content_type;
  std::string_view body;
};

const std::vector<Asset>& assets();

inline const Asset* find_asset(std::string_view name) {
  for (const auto& asset : assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

}  // namespace lbctl::serve
