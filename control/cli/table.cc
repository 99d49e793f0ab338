// Aligned plain-text tables for nodeplanectl.
#include "control/cli/table.h"

#include <algorithm>
#include <utility>

namespace nodeplane::cli {
namespace {

constexpr size_t kGap = 3;

}  // namespace

size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) {
    // UTF-8 continuation bytes (10xxxxxx) do not start a new code point.
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

Table::Table(std::vector<Column> columns, bool show_header)
    : columns_(std::move(columns)), show_header_(show_header) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(columns_.size(), 0);
  if (show_header_) {
    for (size_t c = 0; c < columns_.size(); ++c) widths[c] = DisplayWidth(columns_[c].header);
  }
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }

  std::string out;
  auto append_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line.append(kGap, ' ');
      size_t pad = widths[c] - DisplayWidth(cells[c]);
      if (columns_[c].align == Align::kRight) {
        line.append(pad, ' ');
        line += cells[c];
      } else {
        line += cells[c];
        line.append(pad, ' ');
      }
    }
    // Left-aligned last columns (and empty cells) would otherwise leave trailing blanks.
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };

  if (show_header_) {
    std::vector<std::string> header;
    header.reserve(columns_.size());
    for (const auto& col : columns_) header.push_back(col.header);
    append_line(header);
  }
  for (const auto& row : rows_) append_line(row);
  return out;
}

}  // namespace nodeplane::cli
