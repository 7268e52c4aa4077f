#pragma once
// A Beast File that exposes one byte range of a file as if it were the whole file, so
// basic_file_body serves 206 responses without copying (Beast 1.81's file_body always sends
// size() bytes from the current position).
#include <boost/beast/core/file_posix.hpp>
#include <cstdint>
#include <optional>

namespace veza::http {

class RangedFile {
 public:
  using native_handle_type = int;

  RangedFile() = default;
  RangedFile(RangedFile&&) = default;
  RangedFile& operator=(RangedFile&&) = default;

  bool is_open() const { return file_.is_open(); }
  void close(boost::beast::error_code& ec) { file_.close(ec); }
  void open(char const* path, boost::beast::file_mode mode, boost::beast::error_code& ec) {
    file_.open(path, mode, ec);
  }
  std::uint64_t size(boost::beast::error_code& ec) const {
    if (length_) {
      ec = {};
      return *length_;
    }
    return file_.size(ec);
  }
  std::uint64_t pos(boost::beast::error_code& ec) const { return file_.pos(ec) - offset_; }
  void seek(std::uint64_t offset, boost::beast::error_code& ec) { file_.seek(offset_ + offset, ec); }
  std::size_t read(void* buffer, std::size_t n, boost::beast::error_code& ec) {
    return file_.read(buffer, n, ec);
  }
  std::size_t write(void const*, std::size_t, boost::beast::error_code& ec) {
    ec = boost::beast::errc::make_error_code(boost::beast::errc::operation_not_permitted);
    return 0;
  }
  // For senders that bypass Beast's 4 KiB read buffer: the descriptor and where the exposed
  // bytes start in it (size() gives how many).
  native_handle_type native_handle() const { return file_.native_handle(); }
  std::uint64_t Offset() const { return offset_; }
  // Restricts the file to [offset, offset + length) and positions it at offset.
  void Restrict(std::uint64_t offset, std::uint64_t length, boost::beast::error_code& ec) {
    offset_ = offset;
    length_ = length;
    file_.seek(offset, ec);
  }

 private:
  boost::beast::file_posix file_;
  std::uint64_t offset_ = 0;
  std::optional<std::uint64_t> length_;
};

}  // namespace veza::http
