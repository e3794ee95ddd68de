// module dtls
