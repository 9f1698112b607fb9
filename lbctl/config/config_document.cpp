#include "lbctl/config/config_document.hpp"

#include <algorithm>
#include <sstream>
#include <yaml-cpp/eventhandler.h>

namespace lbctl::config_detail {

namespace {

// Counts the documents of a stream, and where the second one's content
// starts (its start, when it has none).
class DocumentCounter final : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark second{YAML::Mark::null_mark()};

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override { node(mark); }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (documents == 2 && !m_second_content) second = mark;
    m_second_content = m_second_content || documents == 2;
  }
  bool m_second_content = false;
};

YAML::Mark mark_at(const std::string& text, std::size_t pos) {
  YAML::Mark mark;
  mark.pos = static_cast<int>(pos);
  mark.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
  const auto line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  mark.column = static_cast<int>(line_start == std::string::npos || pos == 0 ? pos : pos - line_start - 1);
  return mark;
}

}  // namespace

YAML::Node load_document(const Reader& reader, const std::string& text) {
  // yaml-cpp stops reading at a NUL byte and returns what came before it as
  // the whole file: the settings after it would be silently ignored.
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    reader.fail(mark_at(text, nul), "", "a NUL byte: a config file is text");
  }
  YAML::Node document;
  DocumentCounter counter;
  try {
    document = YAML::Load(text);
    // Not YAML::LoadAll: on some malformed input (a stray ',' line) yaml-cpp
    // 0.7 finds an endless run of empty documents and LoadAll never returns
    // (fixed upstream after 0.8). Two documents are all this needs to know.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
    }
  } catch (const YAML::Exception& e) {
    reader.fail(e.mark, "", "malformed YAML: " + e.msg);
  }
  if (counter.documents == 0) {
    reader.fail(YAML::Mark::null_mark(), "", "the file holds no settings; expected a map with service, state, "
                                             "load_balancers and provider");
  }
  if (counter.documents > 1) {
    reader.fail(counter.second, "", "a second YAML document (after ---); expected the config as one document");
  }
  return document;
}

}  // namespace lbctl::config_detail
