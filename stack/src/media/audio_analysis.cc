#include "media/audio_analysis.h"

#include <cmath>
#include <cstdint>

namespace refrtc::media {
namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

void Fft(std::vector<double>& re_vec, std::vector<double>& im_vec) {
  const size_t n = re_vec.size();
  if (n < 2 || im_vec.size() != n || (n & (n - 1)) != 0) return;
  double* re = re_vec.data();
  double* im = im_vec.data();
  // Bit-reversal permutation.
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }
  // Twiddle factors e^{-2 pi i k / n}, k < n/2, computed directly (no accumulated error).
  std::vector<double> wr_vec(n / 2), wi_vec(n / 2);
  double* wr = wr_vec.data();
  double* wi = wi_vec.data();
  for (size_t k = 0; k < n / 2; ++k) {
    const double angle = -2 * kPi * static_cast<double>(k) / static_cast<double>(n);
    wr[k] = std::cos(angle);
    wi[k] = std::sin(angle);
  }
  // Butterflies, stage length 2, 4, ..., n; stage `len` uses every (n/len)-th twiddle.
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t half = len / 2, stride = n / len;
    for (size_t i = 0; i < n; i += len) {
      for (size_t k = 0; k < half; ++k) {
        const size_t a = i + k, b = a + half;
        const double cr = wr[k * stride], ci = wi[k * stride];
        const double vr = re[b] * cr - im[b] * ci;
        const double vi = re[b] * ci + im[b] * cr;
        re[b] = re[a] - vr;
        im[b] = im[a] - vi;
        re[a] += vr;
        im[a] += vi;
      }
    }
  }
}

AudioMeasurement MeasureAudio(const std::vector<float>& samples, uint32_t sample_rate) {
  AudioMeasurement m;
  const size_t n = samples.size();
  if (n == 0 || sample_rate == 0) return m;
  double energy = 0, mean = 0;
  for (float s : samples) {
    energy += static_cast<double>(s) * s;
    mean += s;
  }
  m.rms = std::sqrt(energy / static_cast<double>(n));
  mean /= static_cast<double>(n);
  if (m.rms < kSilenceRms || n < 64) return m;

  // Zero-pad to the next power of two.
  size_t fft_size = 1;
  while (fft_size < n) fft_size <<= 1;
  std::vector<double> re(fft_size, 0.0), im(fft_size, 0.0);
  for (size_t i = 0; i < n; ++i) {
    double w = 0.5 - 0.5 * std::cos(2 * kPi * static_cast<double>(i) / static_cast<double>(n - 1));  // Hann
    re[i] = (static_cast<double>(samples[i]) - mean) * w;
  }
  Fft(re, im);
  auto power = [&](size_t k) { return re[k] * re[k] + im[k] * im[k]; };
  const double bin_hz = static_cast<double>(sample_rate) / static_cast<double>(fft_size);
  // Ignore the bins below 10 Hz (DC and rounding drift).
  size_t first = static_cast<size_t>(std::ceil(10.0 / bin_hz));
  if (first < 1) first = 1;
  size_t last = fft_size / 2 - 1;
  size_t peak = 0;
  double peak_mag = -1;
  for (size_t k = first; k <= last; ++k) {
    double mag = power(k);
    if (mag > peak_mag) {
      peak_mag = mag;
      peak = k;
    }
  }
  if (peak == 0) return m;
  // Parabolic interpolation on the log magnitude of the peak and its neighbours (exact for a
  // Gaussian main lobe, close for Hann).
  double offset = 0;
  double a = std::log(power(peak - 1) + 1e-300);
  double b = std::log(peak_mag + 1e-300);
  double c = std::log(power(peak + 1) + 1e-300);
  double denom = a - 2 * b + c;
  if (denom < 0) {
    offset = 0.5 * (a - c) / denom;
    if (offset > 0.5) offset = 0.5;
    if (offset < -0.5) offset = -0.5;
  }
  m.dominant_hz = (static_cast<double>(peak) + offset) * bin_hz;
  return m;
}

}  // namespace refrtc::media
