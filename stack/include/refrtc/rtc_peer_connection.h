// W3C webrtc-pc §4.4 RTCPeerConnection, sans-IO.
//
// The W3C methods are synchronous here: a promise-returning method returns its fulfilment value
// or the error it would reject with (absl::Status carrying the DOMException name, see
// util/dom_exception.h). Events are queued in the order the spec fires them and polled with
// PollEvent(). The host drives I/O and time through the Endpoint interface; API calls use the
// time of the latest input, or of SetTime() if the host calls it first.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "refrtc/endpoint.h"
#include "refrtc/rtc_certificate.h"
#include "refrtc/rtc_configuration.h"
#include "refrtc/rtc_data_channel.h"
#include "refrtc/rtc_events.h"
#include "refrtc/media_stream_track.h"
#include "refrtc/rtc_ice_candidate.h"
#include "refrtc/rtc_identity.h"
#include "refrtc/rtc_rtp_transceiver.h"
#include "refrtc/rtc_session_description.h"
#include "refrtc/rtc_transports.h"
#include "util/random.h"

namespace refrtc {
namespace engine {
class TransportStack;
}
namespace sdp {
struct SessionDescription;
struct MediaSection;
}
class MediaSession;
struct MediaStreamStats;
struct IdentityState;

struct RTCOfferOptions {
  bool iceRestart = false;
};

class RTCPeerConnection : public Endpoint {
 public:
  // §4.4.1.1 constructor steps: validates the configuration (certificates expired →
  // InvalidAccessError, bad ICE server URLs → SyntaxError) and generates a certificate
  // when none is given.
  static absl::StatusOr<std::unique_ptr<RTCPeerConnection>> Create(const RTCConfiguration& config,
                                                                   const RTCEngineOptions& options);
  ~RTCPeerConnection() override;

  // --- JSEP (§4.4.1.x) ---
  absl::StatusOr<RTCSessionDescriptionInit> createOffer(const RTCOfferOptions& options = {});
  absl::StatusOr<RTCSessionDescriptionInit> createAnswer();
  // No argument (or an init without type) is the implicit form (§4.4.1.6 setLocalDescription).
  absl::Status setLocalDescription(const RTCSessionDescriptionInit& description = {});
  absl::Status setRemoteDescription(const RTCSessionDescriptionInit& description);
  // nullopt is addIceCandidate(null): end-of-candidates for all media sections.
  absl::Status addIceCandidate(const std::optional<RTCIceCandidateInit>& candidate);
  void restartIce();
  RTCConfiguration getConfiguration() const { return config_; }
  absl::Status setConfiguration(const RTCConfiguration& config);
  void close();

  std::optional<RTCSessionDescription> localDescription() const;
  std::optional<RTCSessionDescription> currentLocalDescription() const;
  std::optional<RTCSessionDescription> pendingLocalDescription() const;
  std::optional<RTCSessionDescription> remoteDescription() const;
  std::optional<RTCSessionDescription> currentRemoteDescription() const;
  std::optional<RTCSessionDescription> pendingRemoteDescription() const;
  RTCSignalingState signalingState() const { return signaling_state_; }
  RTCIceGatheringState iceGatheringState() const { return gathering_state_; }
  RTCIceConnectionState iceConnectionState() const { return ice_connection_state_; }
  RTCPeerConnectionState connectionState() const { return connection_state_; }
  std::optional<bool> canTrickleIceCandidates() const { return can_trickle_; }
  // §6.1: null until an application m-section has been negotiated.
  std::optional<RTCSctpTransport> sctp() const;
  RTCDtlsTransport dtlsTransport() const;
  const std::shared_ptr<RTCCertificate>& certificate() const { return certificate_; }

  // §6.1 createDataChannel.
  absl::StatusOr<std::shared_ptr<RTCDataChannel>> createDataChannel(const std::string& label,
                                                                    const RTCDataChannelInit& init = {});

  // --- RTP media (§5.1) ---
  // addTrack: reuses a transceiver of the track's kind that never sent and has no track (e.g. one
  // a remote offer created), else creates a sendrecv one. InvalidStateError when closed,
  // InvalidAccessError when the track already has a sender here.
  absl::StatusOr<std::shared_ptr<RTCRtpSender>> addTrack(std::shared_ptr<MediaStreamTrack> track,
                                                         const std::vector<std::string>& streams = {});
  // removeTrack: the sender stops sending (track null), the transceiver no longer sends.
  absl::Status removeTrack(const std::shared_ptr<RTCRtpSender>& sender);
  // addTransceiver(kind): TypeError for a kind other than audio/video.
  absl::StatusOr<std::shared_ptr<RTCRtpTransceiver>> addTransceiver(const std::string& kind,
                                                                    const RTCRtpTransceiverInit& init = {});
  absl::StatusOr<std::shared_ptr<RTCRtpTransceiver>> addTransceiver(std::shared_ptr<MediaStreamTrack> track,
                                                                    const RTCRtpTransceiverInit& init = {});
  std::vector<std::shared_ptr<RTCRtpTransceiver>> getTransceivers() const;
  std::vector<std::shared_ptr<RTCRtpSender>> getSenders() const;
  std::vector<std::shared_ptr<RTCRtpReceiver>> getReceivers() const;
  // §5.2 / §5.3 getCapabilities(kind): the codecs this build sends / receives.
  static std::vector<RTCRtpCodec> getCapabilities(const std::string& kind);
  // Not W3C: the per-transceiver RTP counters behind getStats (webrtc-stats RTP stream stats).
  std::vector<MediaStreamStats> media_stats() const;
  uint64_t unroutable_rtp_packets() const;
  // Not W3C: what getStats reports about candidates and channels (see rtc_json.h RTCStatsReportJson).
  const std::vector<std::string>& local_candidates() const { return local_candidates_; }
  const std::vector<std::string>& remote_candidates() const { return remote_candidates_; }
  const std::vector<std::shared_ptr<RTCDataChannel>>& data_channels() const { return channels_; }
  uint64_t data_channels_opened() const { return data_channels_opened_; }
  uint64_t data_channels_closed() const { return data_channels_closed_; }

  // --- webrtc-identity §6 (rtc_peer_connection_identity.cc; see refrtc/rtc_identity.h) ---
  // setIdentityProvider: InvalidStateError when closed, SyntaxError for a bad domain/protocol.
  absl::Status setIdentityProvider(const std::string& provider, const RTCIdentityProviderOptions& options = {});
  // The a=identity value (base64 JSON); IdentityPendingStatus while the IdP works (retry after
  // the kIdentityResult event); the RTCError on failure; InvalidStateError without an IdP.
  absl::StatusOr<std::string> getIdentityAssertion();
  RTCPeerIdentity peerIdentity() const;
  std::optional<std::string> idpLoginUrl() const;
  std::optional<std::string> idpErrorInfo() const;
  // Not W3C: the IdPs this peer connection can load (per peer connection unless shared), and
  // the IdP time limit (default 15 s).
  RTCIdentityProviderRegistry& identityProviders();
  void setIdentityProviderRegistry(std::shared_ptr<RTCIdentityProviderRegistry> registry);
  void setIdpTimeout(Duration timeout);

  // --- events and time ---
  std::optional<RTCEvent> PollEvent();
  void SetTime(Instant now);

  // --- Endpoint (sans-IO) ---
  void AddLocalAddress(const SocketAddress& local) override;
  void HandleReceive(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                     Instant now) override;
  void HandleStreamData(ByteView bytes, const SocketAddress& local, const SocketAddress& remote,
                        Instant now) override;
  void HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote, Instant now) override;
  void HandleTimeout(Instant now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Instant> PollTimeout() override;

  // Debug consistency checks (run after each public call in debug builds; exposed for tests).
  void CheckInvariants() const;
  const engine::TransportStack& transport_stack() const { return *stack_; }

 private:
  friend class RTCDataChannel;
  friend class RTCRtpSender;
  friend class RTCRtpReceiver;
  friend class RTCRtpTransceiver;
  friend class RTCDTMFSender;
  struct Section;
  RTCPeerConnection(const RTCConfiguration& config, const RTCEngineOptions& options,
                    std::shared_ptr<RTCCertificate> cert);

  std::string BuildOffer(bool ice_restart);
  absl::StatusOr<std::string> BuildAnswer();
  absl::Status ApplyLocal(RTCSdpType type, const std::string& sdp);
  absl::Status ApplyRemote(RTCSdpType type, const std::string& sdp);
  absl::Status Rollback(bool local);
  void ApplyNegotiatedTransports(bool final_answer);
  void SetSignalingState(RTCSignalingState s);
  void UpdateNegotiationNeeded();
  bool NegotiationNeeded() const;
  void OpenPendingChannels();
  void ProcessTransportEvents();
  void UpdateConnectionState();
  void UpdateBufferedAmounts();
  void Emit(RTCEvent e);
  std::string DescribeWithCandidates(const std::string& sdp) const;
  absl::Status ChannelSend(RTCDataChannel* ch, ByteView data, bool binary);
  void ChannelClose(RTCDataChannel* ch);
  void ChannelSetLowThreshold(RTCDataChannel* ch, uint64_t v);
  void CloseChannelLocally(const std::shared_ptr<RTCDataChannel>& ch, bool fire_events);
  // Media (rtc_peer_connection_media.cc).
  std::shared_ptr<RTCRtpTransceiver> NewTransceiver(const std::string& kind, RTCRtpTransceiverDirection dir);
  RTCRtpTransceiver* TransceiverByMid(const std::string& mid) const;
  void WriteOfferMedia(RTCRtpTransceiver& t, sdp::MediaSection& m) const;
  // false: reject the section (no codec in common, stopped transceiver).
  bool WriteAnswerMedia(const sdp::MediaSection& offered, RTCRtpTransceiver& t, sdp::MediaSection& m) const;
  void ApplyLocalMedia(const sdp::SessionDescription& local, RTCSdpType type);
  void ApplyRemoteMedia(const sdp::SessionDescription& remote, RTCSdpType type, std::vector<RTCEvent>* track_events);
  void NegotiateMedia();
  void RollbackMedia(bool local_offer);
  bool MediaNegotiationNeeded() const;
  void PumpMedia();
  void StopTransceiverNow(RTCRtpTransceiver& t);
  // DTMF (rtc_dtmf_sender.cc): due Playout tasks, the next one, received digits → events.
  void RunDtmfTasks();
  std::optional<Instant> DtmfTimeout() const;
  void PumpReceivedDtmf();
  // webrtc-identity (rtc_peer_connection_identity.cc).
  IdentityState& Identity();
  absl::Status PrepareIdentity();                          // createOffer/createAnswer: assertion ready?
  void WriteIdentity(sdp::SessionDescription& d) const;    // a=identity (session level)
  absl::Status CheckRemoteIdentity(const sdp::SessionDescription& remote);  // setRemoteDescription
  void PumpIdentity();                                     // settle finished/timed-out IdP requests
  std::optional<Instant> IdentityTimeout() const;
  std::shared_ptr<IdentityState> identity_;
  RTCConfiguration config_;
  RTCEngineOptions options_;
  Random rng_;
  std::shared_ptr<RTCCertificate> certificate_;
  std::unique_ptr<engine::TransportStack> stack_;
  Instant now_{};

  bool is_closed_ = false;
  RTCSignalingState signaling_state_ = RTCSignalingState::kStable;
  RTCIceGatheringState gathering_state_ = RTCIceGatheringState::kNew;
  RTCIceConnectionState ice_connection_state_ = RTCIceConnectionState::kNew;
  RTCPeerConnectionState connection_state_ = RTCPeerConnectionState::kNew;
  RTCDtlsTransportState dtls_state_ = RTCDtlsTransportState::kNew;
  std::optional<bool> can_trickle_;
  bool gathering_started_ = false;
  bool ice_role_decided_ = false;
  bool negotiation_needed_ = false;
  bool restart_ice_pending_ = false;
  bool sctp_failed_ = false;

  // ICE credentials: the ones in the current local description, and fresh ones for a restart.
  std::string local_ufrag_, local_pwd_;
  std::string offered_ufrag_, offered_pwd_;  // in the pending local offer / answer
  std::string remote_ufrag_, remote_pwd_;

  uint64_t session_id_ = 0;
  uint64_t session_version_ = 0;
  std::optional<RTCSessionDescription> current_local_, pending_local_, current_remote_, pending_remote_;
  std::string last_created_offer_, last_created_answer_;
  std::vector<std::string> local_candidates_;  // "candidate:..." gathered so far
  std::vector<std::string> remote_candidates_;
  bool remote_end_of_candidates_ = false;

  // The m-sections of the latest local description, in order (mid, media kind, accepted).
  struct Section {
    std::string mid;
    std::string media;
    std::string protocol;
    std::vector<std::string> formats;
    bool rejected = false;
  };
  std::vector<Section> sections_;          // of current_local_/pending_local_
  std::vector<Section> remote_offer_sections_;  // from a pending remote offer
  std::string data_mid_;                   // mid of the negotiated application section ("" none)
  uint16_t remote_sctp_port_ = 5000;
  uint64_t remote_max_message_size_ = 65536;
  // From a pending remote offer, applied when our answer is set.
  std::string pending_fp_alg_, pending_fp_value_, pending_setup_;
  bool remote_restart_pending_answer_ = false;

  std::vector<std::shared_ptr<RTCDataChannel>> channels_;  // not yet closed, creation order
  std::map<uint16_t, std::shared_ptr<RTCDataChannel>> by_stream_;
  static uint64_t next_channel_handle_;

  std::deque<RTCEvent> events_;
  uint64_t data_channels_opened_ = 0, data_channels_closed_ = 0;  // webrtc-stats RTCPeerConnectionStats

  // Media.
  std::vector<std::shared_ptr<RTCRtpTransceiver>> transceivers_;  // §4.4.1.1 [[Transceivers]], creation order
  std::unique_ptr<MediaSession> media_;
  std::string cname_;  // RFC 7022: one random CNAME per peer connection
  // mid → transceiver for the m-sections a created-but-not-applied offer adds.
  std::map<std::string, std::weak_ptr<RTCRtpTransceiver>> offer_mids_;
  static uint64_t next_media_handle_;
};

}  // namespace refrtc
