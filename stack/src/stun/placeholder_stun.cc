// module stun
