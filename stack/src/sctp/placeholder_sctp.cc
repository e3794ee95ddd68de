// module sctp
