#pragma once
// Tags and cover art: TagLib first (it knows every tag format), libavformat metadata and
// attached pictures as the fallback; the cover re-encoded as a bounded JPEG.
#include <filesystem>
#include <string>

#include "backends/media_ffmpeg/audio_input.h"

namespace veza::media {

struct TagsAndCover {
  MediaTags tags;
  std::string cover;  // the embedded picture's bytes (JPEG, PNG, ...), empty when none
};

// `in` supplies the container and codec (TagLib is told the file type, since uploads are
// stored without an extension) and the libavformat fallbacks.
TagsAndCover ReadTagsAndCover(const std::filesystem::path& input, const AudioInput& in);

// Decodes an embedded picture and writes it as a JPEG of at most max_side x max_side pixels.
Status WriteCoverJpeg(const std::string& picture, const std::filesystem::path& out, int max_side);

}  // namespace veza::media
