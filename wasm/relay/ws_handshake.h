// The relay's HTTP side: RFC 6455 §4.2 opening handshake (server), the token check and the URL
// query parsing of PROTOCOL.md "Connecting". Pure functions over strings; SHA-1 from mbedTLS.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace refrtc::relay {

// RFC 6455 §1.3 / §4.2.2 item 5.4: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string WebSocketAccept(const std::string& key);
std::string Base64Encode(const uint8_t* data, size_t size);

// Compares a presented token with the relay's in time that depends only on the length of
// `expected` (not on where the first difference is).
bool TokenEquals(const std::string& expected, const std::string& given);

// Splits "a=1&b=%41+c" into {("a","1"), ("b","A c")} (application/x-www-form-urlencoded, as
// URLSearchParams writes it). nullopt on a malformed percent escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(const std::string& query);
// Decodes %XX escapes and '+' (as a space); nullopt on a malformed escape.
std::optional<std::string> PercentDecode(const std::string& text);

// A parsed HTTP/1.1 request head (RFC 9112 §3 request line, §5 field lines).
struct HttpRequest {
  std::string method;
  std::string target;  // origin-form: path[?query]
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
  // First value of a header, name compared case-insensitively; nullptr when absent.
  const std::string* Header(const std::string& name) const;
};
// Parses a request head (everything before and without the final empty line). nullopt when it
// is not a well-formed HTTP/1.x request.
std::optional<HttpRequest> ParseHttpRequest(const std::string& head);

// Where the head of a request ends: the index just past "\r\n\r\n", or npos.
size_t FindHeadEnd(const std::string& buffer);
// Heads longer than this are refused with 400 (the relay never buffers more before deciding).
constexpr size_t kMaxRequestHead = 8192;

// The relay's answer to an opening handshake (PROTOCOL.md "Connecting").
struct HandshakeDecision {
  int status = 400;       // 101 on success; else 400, 401, 404, 426 or 503
  std::string response;   // the complete HTTP response head (and short body) to send
  std::string reason;     // for the log
};
// Evaluates a complete request head (up to and including the empty line). Checks, in order:
// well-formed GET HTTP/1.1 (400), path /v1 (404), token (401), upgrade headers and a valid
// Sec-WebSocket-Key (400), Sec-WebSocket-Version 13 (426), capacity (503).
HandshakeDecision EvaluateHandshake(const std::string& head, const std::string& token, bool at_capacity);
// A plain error response with `Connection: close` (also used for 400 "request too large").
std::string HttpErrorResponse(int status, const std::string& extra_headers = "");

}  // namespace refrtc::relay
