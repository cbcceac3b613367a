#pragma once
// Planar geometry for the 2-D tasks: rigid poses, small fixed-capacity polygons and the exact area
// of the intersection of two convex polygons (Sutherland-Hodgman clipping). Everything lives on
// the stack: the Push-T coverage is evaluated thousands of times per planning step by the expert.
#include <algorithm>
#include <array>
#include <cmath>

namespace mimic::env::geom {

struct Vec2 {
  double x = 0, y = 0;
};
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator*(double s, Vec2 a) { return {s * a.x, s * a.y}; }
inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline double cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }
inline double norm(Vec2 a) { return std::sqrt(dot(a, a)); }

// A rigid planar pose: the local frame's origin in world coordinates and its rotation (radians).
struct Pose2 {
  double x = 0, y = 0, theta = 0;
  Vec2 apply(Vec2 p) const {
    const double c = std::cos(theta), s = std::sin(theta);
    return {x + c * p.x - s * p.y, y + s * p.x + c * p.y};
  }
  Vec2 apply_dir(Vec2 d) const {  // rotation only, for normals and directions
    const double c = std::cos(theta), s = std::sin(theta);
    return {c * d.x - s * d.y, s * d.x + c * d.y};
  }
};

// A polygon of at most kMaxVertices vertices. Clipping a convex n-gon by a convex m-gon gives at
// most n + m vertices, so 16 covers every pair of quadrilaterals with room to spare.
struct Polygon {
  static constexpr int kMaxVertices = 16;
  std::array<Vec2, kMaxVertices> v{};
  int n = 0;
  void push(Vec2 p) {
    if (n < kMaxVertices) v[n++] = p;
  }
};

// Signed shoelace area: positive for counter-clockwise vertex order (in a y-up frame).
inline double signed_area(const Polygon& p) {
  double a = 0;
  for (int i = 0; i < p.n; ++i) a += cross(p.v[i], p.v[(i + 1) % p.n]);
  return 0.5 * a;
}
inline double area(const Polygon& p) { return std::abs(signed_area(p)); }

// An axis-aligned rectangle [x0, x1] x [y0, y1] in a body frame, placed by `pose`.
inline Polygon rect(const Pose2& pose, double x0, double y0, double x1, double y1) {
  Polygon p;
  p.push(pose.apply({x0, y0}));
  p.push(pose.apply({x1, y0}));
  p.push(pose.apply({x1, y1}));
  p.push(pose.apply({x0, y1}));
  return p;
}

// subject clipped by the convex polygon `clip` (either orientation). The subject may be any simple
// polygon whose intersection with `clip` is connected; both are convex in all uses here.
// Each vertex's side is computed once: with contracted multiply-adds, evaluating the same
// expression twice can give -1e-13 and +1e-13 for a point on a shared edge, and inconsistent
// answers break the clipping. Points within 1e-9 of a clip line count as inside.
inline Polygon clip_convex(const Polygon& subject, const Polygon& clip) {
  Polygon out = subject;
  const double orient = signed_area(clip) >= 0 ? 1.0 : -1.0;
  std::array<double, Polygon::kMaxVertices> side{};
  for (int e = 0; e < clip.n && out.n > 0; ++e) {
    const Vec2 a = clip.v[e], b = clip.v[(e + 1) % clip.n];
    const Vec2 ab = b - a;
    const double tol = 1e-9 * norm(ab);  // side() is |ab| times the signed distance
    const Polygon in = out;
    for (int i = 0; i < in.n; ++i) side[i] = orient * cross(ab, in.v[i] - a);
    out.n = 0;
    for (int i = 0; i < in.n; ++i) {
      const int j = (i + 1) % in.n;
      const double sp = side[i], sq = side[j];
      const bool p_in = sp >= -tol, q_in = sq >= -tol;
      if (p_in) out.push(in.v[i]);
      if (p_in != q_in) {
        const double t = std::clamp(sp / (sp - sq), 0.0, 1.0);
        out.push(in.v[i] + t * (in.v[j] - in.v[i]));
      }
    }
  }
  return out;
}

inline double intersection_area(const Polygon& a, const Polygon& b) {
  return area(clip_convex(a, b));
}

}  // namespace mimic::env::geom
