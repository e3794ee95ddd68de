// RFC 6455 §4.2 server handshake, token check and query parsing. See ws_handshake.h.
#include "ws_handshake.h"

#include <cctype>
#include <cstring>

#include "mbedtls/sha1.h"

namespace refrtc::relay {
namespace {

constexpr char kWebSocketGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IEquals(const std::string& a, const char* b) { return Lower(a) == b; }

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// True when a comma-separated header value (e.g. "keep-alive, Upgrade") holds `token`
// (case-insensitive), RFC 9110 §5.6.1 list syntax.
bool ListContains(const std::string* value, const char* token) {
  if (!value) return false;
  size_t start = 0;
  while (start <= value->size()) {
    size_t comma = value->find(',', start);
    if (comma == std::string::npos) comma = value->size();
    if (IEquals(Trim(value->substr(start, comma - start)), token)) return true;
    start = comma + 1;
  }
  return false;
}

bool IsTchar(char c) {  // RFC 9110 §5.6.2 token characters
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsBase64Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

// RFC 6455 §4.2.1 item 5: the key is a base64-encoded 16-byte value, i.e. 22 characters + "==".
bool IsValidKey(const std::string& key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!IsBase64Char(key[i])) return false;
  }
  return true;
}

const char* StatusText(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 426: return "Upgrade Required";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

HandshakeDecision Refuse(int status, std::string reason, const std::string& extra_headers = "") {
  HandshakeDecision d;
  d.status = status;
  d.response = HttpErrorResponse(status, extra_headers);
  d.reason = std::move(reason);
  return d;
}

}  // namespace

std::string Base64Encode(const uint8_t* data, size_t size) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    uint32_t v = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < size) v |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (i + 2 < size) v |= data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string WebSocketAccept(const std::string& key) {
  const std::string input = key + kWebSocketGuid;
  unsigned char digest[20];
  mbedtls_sha1_ret(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return Base64Encode(digest, sizeof digest);
}

bool TokenEquals(const std::string& expected, const std::string& given) {
  // Every byte of `expected` is visited whatever `given` holds; differences are OR-ed together.
  volatile uint8_t diff = expected.size() != given.size() ? 1 : 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const uint8_t g = i < given.size() ? static_cast<uint8_t>(given[i]) : 0;
    diff = diff | (static_cast<uint8_t>(expected[i]) ^ g);
  }
  return diff == 0 && !expected.empty();
}

std::optional<std::string> PercentDecode(const std::string& text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    const std::string part = query.substr(start, amp - start);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      auto name = PercentDecode(part.substr(0, eq));
      auto value = PercentDecode(eq == std::string::npos ? std::string() : part.substr(eq + 1));
      if (!name || !value) return std::nullopt;
      out.emplace_back(std::move(*name), std::move(*value));
    }
    start = amp + 1;
  }
  return out;
}

const std::string* HttpRequest::Header(const std::string& name) const {
  const std::string lower = Lower(name);
  for (const auto& [n, v] : headers) {
    if (Lower(n) == lower) return &v;
  }
  return nullptr;
}

size_t FindHeadEnd(const std::string& buffer) {
  const size_t at = buffer.find("\r\n\r\n");
  return at == std::string::npos ? std::string::npos : at + 4;
}

std::optional<HttpRequest> ParseHttpRequest(const std::string& head) {
  HttpRequest req;
  size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    const std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;  // the empty line ending the head
    if (first) {
      // RFC 9112 §3: method SP request-target SP HTTP-version
      first = false;
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) return std::nullopt;
      req.method = line.substr(0, sp1);
      req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      req.version = line.substr(sp2 + 1);
      if (req.method.empty() || req.target.empty()) return std::nullopt;
      for (char c : req.method) {
        if (!IsTchar(c)) return std::nullopt;
      }
      if (req.version.rfind("HTTP/1.", 0) != 0 || req.version.size() != 8) return std::nullopt;
      continue;
    }
    // RFC 9112 §5: field-name ":" OWS field-value OWS; obsolete line folding is rejected (§5.2).
    if (line[0] == ' ' || line[0] == '\t') return std::nullopt;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    const std::string name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTchar(c)) return std::nullopt;
    }
    std::string value = Trim(line.substr(colon + 1));
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return std::nullopt;
    }
    req.headers.emplace_back(name, std::move(value));
  }
  if (first) return std::nullopt;
  return req;
}

std::string HttpErrorResponse(int status, const std::string& extra_headers) {
  const std::string body = std::to_string(status) + " " + StatusText(status) + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + StatusText(status) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

HandshakeDecision EvaluateHandshake(const std::string& head, const std::string& token, bool at_capacity) {
  auto req = ParseHttpRequest(head);
  // RFC 6455 §4.2.1 item 1: an HTTP/1.1 or higher GET request.
  if (!req) return Refuse(400, "malformed HTTP request");
  if (req->method != "GET" || req->version != "HTTP/1.1") return Refuse(400, "not a GET HTTP/1.1 request");
  // PROTOCOL.md: path /v1, token in the query.
  const size_t q = req->target.find('?');
  const std::string path = req->target.substr(0, q);
  if (path != "/v1") return Refuse(404, "unknown path " + path.substr(0, 64));
  auto query = ParseQuery(q == std::string::npos ? std::string() : req->target.substr(q + 1));
  const std::string* given = nullptr;
  if (query) {
    for (const auto& [name, value] : *query) {
      if (name == "token") {
        given = &value;
        break;
      }
    }
  }
  if (!given || !TokenEquals(token, *given)) return Refuse(401, given ? "wrong token" : "missing token");
  // §4.2.1 items 2-5: Host, Upgrade: websocket, Connection: Upgrade, a valid Sec-WebSocket-Key.
  if (!req->Header("Host")) return Refuse(400, "no Host header");
  if (!ListContains(req->Header("Upgrade"), "websocket")) return Refuse(400, "not a WebSocket upgrade");
  if (!ListContains(req->Header("Connection"), "upgrade")) return Refuse(400, "no Connection: Upgrade");
  const std::string* key = req->Header("Sec-WebSocket-Key");
  if (!key || !IsValidKey(*key)) return Refuse(400, "missing or invalid Sec-WebSocket-Key");
  // §4.2.1 item 6 / §4.4: only version 13; otherwise 426 naming the supported version.
  const std::string* version = req->Header("Sec-WebSocket-Version");
  if (!version || *version != "13") {
    return Refuse(426, "unsupported Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\n");
  }
  if (at_capacity) return Refuse(503, "too many clients");
  // §4.2.2 item 5: 101 with Upgrade, Connection and Sec-WebSocket-Accept; no subprotocol and no
  // extension is selected.
  HandshakeDecision d;
  d.status = 101;
  d.reason = "upgraded";
  d.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: " + WebSocketAccept(*key) + "\r\n\r\n";
  return d;
}

}  // namespace refrtc::relay
