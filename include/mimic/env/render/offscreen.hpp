#pragma once
// Off-screen rendering of a MuJoCo model without a display: an OSMesa context on a host buffer,
// MuJoCo's GL context bound to its off-screen framebuffer, and one scene. Images come back as RGB
// HWC with rows top-down (mjr_readPixels gives them bottom-up, so rows are flipped here).
//
// OSMesa contexts are current per thread; render() makes this one current every call, so several
// renderers (one per environment) can share a thread. Without OSMesa (MIMIC_HAVE_OSMESA unset) the
// constructor throws UnsupportedError and callers skip rendering.
#include <mujoco/mujoco.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

#ifdef MIMIC_HAVE_OSMESA
#include <GL/osmesa.h>
#endif

namespace mimic::env {

class OffscreenRenderer {
 public:
  // The model's vis.global.offwidth/offheight bound the image size; the owner sets them before
  // this constructor (they are read once, by mjr_makeContext).
  explicit OffscreenRenderer(const mjModel* m) {
#ifdef MIMIC_HAVE_OSMESA
    width_ = m->vis.global.offwidth;
    height_ = m->vis.global.offheight;
    ctx_ = OSMesaCreateContextExt(OSMESA_RGBA, 24, 8, 8, nullptr);
    if (!ctx_) throw UnsupportedError("OffscreenRenderer: OSMesaCreateContextExt failed");
    buffer_.resize(static_cast<size_t>(width_) * height_ * 4);
    if (!make_current()) {
      OSMesaDestroyContext(ctx_);
      throw UnsupportedError("OffscreenRenderer: OSMesaMakeCurrent failed for a " +
                             std::to_string(width_) + "x" + std::to_string(height_) + " buffer");
    }
    mjv_defaultScene(&scene_);
    mjv_defaultOption(&option_);
    mjv_defaultCamera(&camera_);
    mjr_defaultContext(&context_);
    mjv_makeScene(m, &scene_, 2000);
    mjr_makeContext(m, &context_, mjFONTSCALE_100);
    mjr_setBuffer(mjFB_OFFSCREEN, &context_);
#else
    (void)m;
    throw UnsupportedError("OffscreenRenderer: built without OSMesa (MIMIC_HAVE_OSMESA unset)");
#endif
  }
  OffscreenRenderer(const OffscreenRenderer&) = delete;
  OffscreenRenderer& operator=(const OffscreenRenderer&) = delete;
  ~OffscreenRenderer() {
#ifdef MIMIC_HAVE_OSMESA
    make_current();
    mjr_freeContext(&context_);
    mjv_freeScene(&scene_);
    OSMesaDestroyContext(ctx_);
#endif
  }

  // Scene flags (shadows, reflections, skybox) and visual options, for the owner to adjust.
  mjvScene& scene() { return scene_; }
  mjvOption& option() { return option_; }
  int max_width() const { return width_; }
  int max_height() const { return height_; }

  // Renders fixed camera `camera_id` into out (width * height * 3 bytes, RGB, rows top-down).
  void render(const mjModel* m, mjData* d, int camera_id, int width, int height, uint8_t* out) {
#ifdef MIMIC_HAVE_OSMESA
    if (width <= 0 || height <= 0 || width > width_ || height > height_)
      throw ValueError("OffscreenRenderer::render: size " + std::to_string(width) + "x" +
                       std::to_string(height) + " outside the off-screen buffer " +
                       std::to_string(width_) + "x" + std::to_string(height_));
    if (camera_id < 0 || camera_id >= m->ncam)
      throw ValueError("OffscreenRenderer::render: camera id " + std::to_string(camera_id) +
                       " not in [0, " + std::to_string(m->ncam) + ")");
    make_current();
    camera_.type = mjCAMERA_FIXED;
    camera_.fixedcamid = camera_id;
    mjv_updateScene(m, d, &option_, nullptr, &camera_, mjCAT_ALL, &scene_);
    const mjrRect viewport{0, 0, width, height};
    mjr_render(viewport, &scene_, &context_);
    rows_.resize(static_cast<size_t>(width) * height * 3);
    mjr_readPixels(rows_.data(), nullptr, viewport, &context_);
    const size_t row = static_cast<size_t>(width) * 3;
    for (int r = 0; r < height; ++r)
      std::memcpy(out + r * row, rows_.data() + (height - 1 - r) * row, row);
#else
    (void)m, (void)d, (void)camera_id, (void)width, (void)height, (void)out;
#endif
  }

  std::vector<uint8_t> render(const mjModel* m, mjData* d, int camera_id, int width, int height) {
    std::vector<uint8_t> img(static_cast<size_t>(width) * height * 3);
    render(m, d, camera_id, width, height, img.data());
    return img;
  }

 private:
#ifdef MIMIC_HAVE_OSMESA
  bool make_current() {
    return OSMesaMakeCurrent(ctx_, buffer_.data(), GL_UNSIGNED_BYTE, width_, height_);
  }
  OSMesaContext ctx_ = nullptr;
#endif
  int width_ = 0, height_ = 0;
  std::vector<uint8_t> buffer_, rows_;
  mjvScene scene_{};
  mjvOption option_{};
  mjvCamera camera_{};
  mjrContext context_{};
};

}  // namespace mimic::env
