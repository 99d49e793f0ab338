// Aligned plain-text tables for nodeplanectl, in the style of `kubectl get`.
#pragma once

#include <string>
#include <vector>

namespace nodeplane::cli {

// Columns are separated by three spaces (as kubectl does) so that a column of short numbers is
// still easy to tell from its neighbour; lines carry no trailing spaces, so output diffs cleanly.
class Table {
 public:
  enum class Align { kLeft, kRight };

  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  // show_header=false renders key/value listings (e.g. `status`) with the same alignment rules.
  explicit Table(std::vector<Column> columns, bool show_header = true);

  // A row with fewer cells than columns is padded with empty cells; extra cells are dropped.
  void AddRow(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }

  // Every line, including the last, ends in '\n'.
  std::string Render() const;

 private:
  std::vector<Column> columns_;
  bool show_header_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of a UTF-8 string: code points, not bytes, so a non-ASCII label does not
// shift every column after it. (Wide East Asian characters are not accounted for.)
size_t DisplayWidth(const std::string& s);

}  // namespace nodeplane::cli
