#pragma once
// One table per enum of the names users and files see ("health_file",
// "rolled_back", ...): to text and back, from the same rows.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace lbctl {

template <class E, std::size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(std::array<std::pair<E, std::string_view>, N> rows) : m_rows(rows) {}

  // The value's name; "?" for a value the table does not hold.
  constexpr std::string_view name(E value) const {
    for (const auto& [v, text] : m_rows) {
      if (v == value) return text;
    }
    return "?";
  }
  constexpr std::optional<E> parse(std::string_view text) const {
    for (const auto& [v, name] : m_rows) {
      if (name == text) return v;
    }
    return std::nullopt;
  }
  constexpr const auto& rows() const { return m_rows; }

 private:
  std::array<std::pair<E, std::string_view>, N> m_rows;
};

// enum_names<Color>({{Color::red, "red"}, {Color::blue, "blue"}})
template <class E, std::size_t N>
constexpr EnumNames<E, N> enum_names(const std::pair<E, std::string_view> (&rows)[N]) {
  std::array<std::pair<E, std::string_view>, N> table{};
  for (std::size_t i = 0; i < N; ++i) table[i] = rows[i];
  return EnumNames<E, N>(table);
}

}  // namespace lbctl
