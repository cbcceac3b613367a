// MP4 writing through ffmpeg, checked with ffprobe as a user would.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "mimic/env/render/video.hpp"

namespace mimic::env {
namespace {

std::string run(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 512> buf;
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (p) pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

bool have_ffmpeg() {
  return std::system("command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1") ==
         0;
}

// "codec,frames" of the first video stream.
std::string probe(const std::string& path) {
  return run(
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=codec_name,nb_read_frames,width,height -of csv=p=0 '" +
      path + "'");
}

std::vector<uint8_t> frame(int w, int h, int k) {
  std::vector<uint8_t> f(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &f[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 2 + k * 7);
      p[1] = static_cast<uint8_t>(y * 2);
      p[2] = static_cast<uint8_t>(k * 13);
    }
  return f;
}

TEST(VideoWriter, WritesH264WithAllFrames) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg/ffprobe not installed";
  const std::string dir = ::testing::TempDir() + "/mimic_video_test";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/rollout.mp4";
  std::filesystem::remove(path);
  {
    VideoWriter v(path, 96, 96, 20);
    for (int k = 0; k < 25; ++k) v.add_frame(frame(96, 96, k));
    EXPECT_EQ(v.frames(), 25);
    EXPECT_FALSE(std::filesystem::exists(path)) << "final name must appear only on close";
    v.close();
    v.close();  // idempotent
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(probe(path), "h264,96,96,25");
  // Nothing left behind but the video.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

TEST(VideoWriter, OddSizeIsPaddedAndDestructorFinishes) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg/ffprobe not installed";
  const std::string path = ::testing::TempDir() + "/mimic_video_odd.mp4";
  std::filesystem::remove(path);
  {
    VideoWriter v(path, 95, 63, 10);
    for (int k = 0; k < 7; ++k) v.add_frame(frame(95, 63, k));
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(probe(path), "h264,96,64,7");
  std::filesystem::remove(path);
}

TEST(VideoWriter, BadInputsThrow) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg/ffprobe not installed";
  EXPECT_THROW(VideoWriter(::testing::TempDir() + "/x.mp4", 0, 10), ValueError);
  const std::string path = ::testing::TempDir() + "/mimic_video_bad.mp4";
  VideoWriter v(path, 16, 16);
  EXPECT_THROW(v.add_frame(std::vector<uint8_t>(10)), ValueError);
  v.close();
  EXPECT_THROW(v.add_frame(frame(16, 16, 0)), IoError);
  std::filesystem::remove(path);
}

// A video path in a folder that does not exist is named as such (it was reported as a missing
// ffmpeg/libx264 at the first frame).
TEST(VideoWriter, MissingFolderIsNamedBeforeAnyFrame) {
  const std::string path = ::testing::TempDir() + "/mimic_no_such_folder/sub/x.mp4";
  try {
    VideoWriter v(path, 16, 16);
    ADD_FAILURE() << "no error for " << path;
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("mimic_no_such_folder/sub does not exist"),
              std::string::npos)
        << e.what();
  }
}

TEST(VideoWriter, MissingEncoderProgramIsAnIoError) {
  const std::string path = ::testing::TempDir() + "/mimic_video_noffmpeg.mp4";
  std::filesystem::remove(path);
  EXPECT_THROW(
      {
        VideoWriter v(path, 16, 16, 20, "/nonexistent/ffmpeg");
        // Small writes may land in the pipe buffer before the shell reports the missing program;
        // the failure then surfaces at close().
        v.add_frame(frame(16, 16, 0));
        v.close();
      },
      IoError);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace mimic::env
