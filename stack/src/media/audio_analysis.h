// Measurement of received audio (DRIVER_PROTOCOL.md getTrackInfo): RMS and the dominant
// frequency, i.e. the peak of a Hann-windowed spectrum with parabolic interpolation of the peak
// on the log magnitude (so a 440 Hz tone reads within a fraction of a bin, ~0.1 Hz).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace refrtc::media {

// In-place iterative radix-2 decimation-in-time FFT of (re, im); the size must be a power of two.
void Fft(std::vector<double>& re, std::vector<double>& im);

struct AudioMeasurement {
  double rms = 0;
  std::optional<double> dominant_hz;  // nullopt when rms < kSilenceRms or too few samples
};

inline constexpr double kSilenceRms = 1e-3;

// `samples` are mono, full scale 1.0, at `sample_rate`.
AudioMeasurement MeasureAudio(const std::vector<float>& samples, uint32_t sample_rate);

}  // namespace refrtc::media
