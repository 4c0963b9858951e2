#include "cluster/manifests.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "apiserver/api_server.h"
#include "apiserver/patch.h"

namespace mambogo::sim {

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(file.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void load_file(const fs::path& file, std::vector<Manifest>& out) {
  const auto objects = parse_manifests(read_text(file), file.string());
  for (std::size_t i = 0; i < objects.size(); ++i)
    out.push_back({objects[i], file.string() + "#" + std::to_string(i + 1)});
}

void load(const fs::path& path, std::vector<Manifest>& out, std::set<fs::path>& visiting);

// A strategic-merge patch applies to the resource of the same apiVersion, kind, name and
// namespace among those the kustomization has gathered so far.
void apply_patch_document(const nlohmann::json& patch, const std::string& source, std::vector<Manifest>& out,
                          std::size_t first) {
  auto same = [&](const nlohmann::json& o) {
    return o.value("kind", "") == patch.value("kind", "") && name_of(o) == name_of(patch) &&
           namespace_of(o) == namespace_of(patch) &&
           (!patch.contains("apiVersion") || o.value("apiVersion", "") == patch.value("apiVersion", ""));
  };
  for (std::size_t i = first; i < out.size(); ++i) {
    if (!same(out[i].object)) continue;
    try {
      out[i].object = api::apply_strategic_merge_patch(out[i].object, patch);
    } catch (const std::exception& e) {
      throw std::invalid_argument(source + ": " + e.what());
    }
    out[i].source += " (patched by " + source + ")";
    return;
  }
  throw std::invalid_argument(source + ": the patch targets " + patch.value("kind", "?") + "/" + name_of(patch) +
                              ", which no resource of the kustomization defines");
}

void load_kustomization(const fs::path& dir, const fs::path& file, std::vector<Manifest>& out,
                        std::set<fs::path>& visiting) {
  const auto docs = parse_manifests(read_text(file), file.string());
  if (docs.size() != 1 || !docs[0].is_object())
    throw std::invalid_argument(file.string() + ": a kustomization is one YAML mapping");
  static const std::set<std::string> understood{"apiVersion", "kind", "resources", "metadata", "patches",
                                                "patchesStrategicMerge"};
  for (const auto& [field, value] : docs[0].items())
    if (!understood.count(field))
      throw std::invalid_argument(file.string() + ": kustomize field \"" + field +
                                  "\" is not supported by mambogo-cluster (resources, patches, patchesStrategicMerge)");
  const std::size_t first = out.size();
  const auto& resources = docs[0].value("resources", nlohmann::json::array());
  if (!resources.is_array()) throw std::invalid_argument(file.string() + ": resources must be a list");
  for (const auto& entry : resources) {
    if (!entry.is_string()) throw std::invalid_argument(file.string() + ": resources entries must be paths");
    load(dir / entry.get<std::string>(), out, visiting);
  }
  // patches: [{path: file} | {patch: inline YAML}] and the older patchesStrategicMerge: [file].
  std::vector<std::pair<std::string, std::string>> patch_texts;  // source, YAML
  for (const auto& entry : docs[0].value("patches", nlohmann::json::array())) {
    if (entry.is_object() && entry.contains("target"))
      throw std::invalid_argument(file.string() + ": patches with a target (JSON 6902) are not supported");
    if (entry.is_object() && entry.contains("path") && entry["path"].is_string())
      patch_texts.emplace_back((dir / entry["path"].get<std::string>()).string(),
                               read_text(dir / entry["path"].get<std::string>()));
    else if (entry.is_object() && entry.contains("patch") && entry["patch"].is_string())
      patch_texts.emplace_back(file.string() + " (inline patch)", entry["patch"].get<std::string>());
    else
      throw std::invalid_argument(file.string() + ": each patches entry needs path or patch");
  }
  for (const auto& entry : docs[0].value("patchesStrategicMerge", nlohmann::json::array())) {
    if (!entry.is_string()) throw std::invalid_argument(file.string() + ": patchesStrategicMerge entries must be paths");
    patch_texts.emplace_back((dir / entry.get<std::string>()).string(), read_text(dir / entry.get<std::string>()));
  }
  for (const auto& [source, text] : patch_texts)
    for (const auto& patch : parse_manifests(text, source)) apply_patch_document(patch, source, out, first);
}

void load(const fs::path& path, std::vector<Manifest>& out, std::set<fs::path>& visiting) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  if (!fs::exists(path)) throw std::invalid_argument(path.string() + ": no such file or directory");
  if (!fs::is_directory(path)) return load_file(path, out);
  if (!visiting.insert(canonical).second) throw std::invalid_argument(path.string() + ": kustomization cycle");
  for (const char* name : {"kustomization.yaml", "kustomization.yml", "Kustomization"}) {
    if (fs::exists(path / name)) {
      load_kustomization(path, path / name, out, visiting);
      visiting.erase(canonical);
      return;
    }
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) load_file(file, out);
  visiting.erase(canonical);
}

}  // namespace

std::vector<Manifest> load_manifests(const std::filesystem::path& dir_or_file) {
  std::vector<Manifest> out;
  std::set<fs::path> visiting;
  load(dir_or_file, out, visiting);
  return out;
}

}  // namespace mambogo::sim
