#include "media/vp8_codec.h"

#include <algorithm>

#if defined(REFRTC_HAVE_VPX) || defined(REFRTC_HAVE_VPX_DECODER)
#ifdef REFRTC_HAVE_VPX
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>
#endif
#ifdef REFRTC_HAVE_VPX_DECODER
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refrtc::media {

#ifdef REFRTC_HAVE_VPX
struct Vp8Encoder::Impl {
  vpx_codec_ctx_t ctx{};
  vpx_codec_enc_cfg_t cfg{};  // libvpx keeps a pointer to the config it was initialised with
  bool initialised = false;
  Vp8EncoderConfig config;
  ~Impl() {
    if (initialised) vpx_codec_destroy(&ctx);
  }
};

absl::StatusOr<std::unique_ptr<Vp8Encoder>> Vp8Encoder::Create(const Vp8EncoderConfig& config) {
  vpx_codec_enc_cfg_t cfg;
  if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK) {
    return absl::InternalError("vpx_codec_enc_config_default failed");
  }
  cfg.g_w = config.width;
  cfg.g_h = config.height;
  cfg.g_timebase.num = 1;
  cfg.g_timebase.den = 90000;
  cfg.g_threads = 1;
  cfg.g_pass = VPX_RC_ONE_PASS;
  cfg.g_lag_in_frames = 0;  // realtime: every input frame produces output immediately
  cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;  // no entropy carried across frames
  cfg.rc_end_usage = VPX_CBR;
  cfg.rc_target_bitrate = config.bitrate_kbps;
  cfg.rc_dropframe_thresh = 0;
  cfg.rc_min_quantizer = 2;
  cfg.rc_max_quantizer = 56;
  cfg.rc_buf_sz = 1000;
  cfg.rc_buf_initial_sz = 500;
  cfg.rc_buf_optimal_sz = 600;
  cfg.kf_mode = VPX_KF_DISABLED;  // key frames are forced by the caller (interval / PLI)
  auto encoder = std::unique_ptr<Vp8Encoder>(new Vp8Encoder());
  encoder->impl_ = std::make_unique<Impl>();
  encoder->impl_->config = config;
  encoder->impl_->cfg = cfg;
  vpx_codec_err_t err = vpx_codec_enc_init(&encoder->impl_->ctx, vpx_codec_vp8_cx(), &encoder->impl_->cfg, 0);
  if (err != VPX_CODEC_OK) {
    return absl::InternalError(absl::StrCat("vpx_codec_enc_init: ", vpx_codec_err_to_string(err)));
  }
  encoder->impl_->initialised = true;
  vpx_codec_control(&encoder->impl_->ctx, VP8E_SET_CPUUSED, -8);  // realtime speed preset
  vpx_codec_control(&encoder->impl_->ctx, VP8E_SET_NOISE_SENSITIVITY, 0);
  vpx_codec_control(&encoder->impl_->ctx, VP8E_SET_TOKEN_PARTITIONS, VP8_ONE_TOKENPARTITION);
  return encoder;
}

Vp8Encoder::~Vp8Encoder() = default;

absl::Status Vp8Encoder::SetBitrateKbps(uint32_t kbps) {
  kbps = std::max<uint32_t>(kbps, 30);
  if (!impl_->initialised) return absl::FailedPreconditionError("encoder not initialised");
  if (impl_->cfg.rc_target_bitrate == kbps) return absl::OkStatus();
  impl_->cfg.rc_target_bitrate = kbps;
  vpx_codec_err_t err = vpx_codec_enc_config_set(&impl_->ctx, &impl_->cfg);
  if (err != VPX_CODEC_OK) return absl::InternalError(absl::StrCat("vpx_codec_enc_config_set: ", vpx_codec_err_to_string(err)));
  return absl::OkStatus();
}

absl::StatusOr<EncodedVp8Frame> Vp8Encoder::Encode(I420Picture& picture, int64_t pts, bool force_keyframe) {
  if (picture.width != impl_->config.width || picture.height != impl_->config.height) {
    return absl::InvalidArgumentError("picture size differs from the encoder's");
  }
  vpx_image_t img;
  if (!vpx_img_wrap(&img, VPX_IMG_FMT_I420, picture.width, picture.height, 1, picture.data.data())) {
    return absl::InternalError("vpx_img_wrap failed");
  }
  vpx_codec_err_t err = vpx_codec_encode(&impl_->ctx, &img, pts, impl_->config.frame_duration_ticks,
                                         force_keyframe ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME);
  if (err != VPX_CODEC_OK) {
    return absl::InternalError(absl::StrCat("vpx_codec_encode: ", vpx_codec_err_to_string(err)));
  }
  EncodedVp8Frame out;
  vpx_codec_iter_t iter = nullptr;
  while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&impl_->ctx, &iter)) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
    const uint8_t* buf = static_cast<const uint8_t*>(pkt->data.frame.buf);
    out.data.insert(out.data.end(), buf, buf + pkt->data.frame.sz);
    if (pkt->data.frame.flags & VPX_FRAME_IS_KEY) out.keyframe = true;
  }
  if (out.data.empty()) return absl::UnavailableError("the encoder produced no frame");
  return out;
}
#endif  // REFRTC_HAVE_VPX

#ifdef REFRTC_HAVE_VPX_DECODER
struct Vp8Decoder::Impl {
  vpx_codec_ctx_t ctx{};
  bool initialised = false;
  ~Impl() {
    if (initialised) vpx_codec_destroy(&ctx);
  }
};

absl::StatusOr<std::unique_ptr<Vp8Decoder>> Vp8Decoder::Create() {
  auto decoder = std::unique_ptr<Vp8Decoder>(new Vp8Decoder());
  decoder->impl_ = std::make_unique<Impl>();
  vpx_codec_dec_cfg_t cfg{};
  cfg.threads = 1;
  vpx_codec_err_t err = vpx_codec_dec_init(&decoder->impl_->ctx, vpx_codec_vp8_dx(), &cfg, 0);
  if (err != VPX_CODEC_OK) {
    return absl::InternalError(absl::StrCat("vpx_codec_dec_init: ", vpx_codec_err_to_string(err)));
  }
  decoder->impl_->initialised = true;
  return decoder;
}

Vp8Decoder::~Vp8Decoder() = default;

bool Vp8Decoder::Decode(ByteView frame) {
  if (frame.empty()) return false;
  if (vpx_codec_decode(&impl_->ctx, frame.data(), static_cast<unsigned int>(frame.size()), nullptr, 0) !=
      VPX_CODEC_OK) {
    return false;
  }
  bool got = false;
  vpx_codec_iter_t iter = nullptr;
  while (vpx_codec_get_frame(&impl_->ctx, &iter) != nullptr) got = true;
  return got;
}
#endif  // REFRTC_HAVE_VPX_DECODER

}  // namespace refrtc::media
#endif  // REFRTC_HAVE_VPX || REFRTC_HAVE_VPX_DECODER
