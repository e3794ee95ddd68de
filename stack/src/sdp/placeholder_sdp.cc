// module sdp
