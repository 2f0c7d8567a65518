#include "adapters/webhook/set_signer.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace scim::adapters::webhook {
namespace {

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

class Hs256Signer : public SetSigner {
 public:
  explicit Hs256Signer(std::string secret) : secret_(std::move(secret)) {}
  std::string_view Algorithm() const override { return "HS256"; }

 protected:
  Result<std::string> SignBytes(std::string_view input) const override {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
             &length) == nullptr) {
      return Error(ErrorCode::kInternal, "HMAC-SHA256 failed: " + OpenSslError());
    }
    return std::string(reinterpret_cast<const char*>(mac), length);
  }

 private:
  std::string secret_;
};

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

class Rs256Signer : public SetSigner {
 public:
  explicit Rs256Signer(PkeyPtr key) : key_(std::move(key)) {}
  std::string_view Algorithm() const override { return "RS256"; }

 protected:
  Result<std::string> SignBytes(std::string_view input) const override {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return Error(ErrorCode::kInternal, "EVP_MD_CTX_new failed");
    std::string signature;
    size_t length = 0;
    bool ok =
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
        EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
    if (ok) {
      signature.resize(length);
      ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
      signature.resize(length);
    }
    EVP_MD_CTX_free(ctx);
    if (!ok) return Error(ErrorCode::kInternal, "RS256 signing failed: " + OpenSslError());
    return signature;
  }

 private:
  PkeyPtr key_;  // EVP_DigestSign with a const key is safe across threads (own ctx per call)
};

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (bytes.size() - i == 1) {
    uint32_t n = byte(i) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

Result<std::unique_ptr<SetSigner>> SetSigner::Hs256(std::string secret) {
  if (secret.empty()) return Error(ErrorCode::kInvalidValue, "HS256 needs a non-empty secret");
  return std::unique_ptr<SetSigner>(std::make_unique<Hs256Signer>(std::move(secret)));
}

Result<std::unique_ptr<SetSigner>> SetSigner::Rs256FromPemFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error(ErrorCode::kInvalidValue, "cannot read " + path);
  std::stringstream text;
  text << file.rdbuf();
  std::string pem = text.str();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Error(ErrorCode::kInternal, "BIO_new_mem_buf failed");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (!key) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidValue, path + " holds no PEM private key");
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return Error(ErrorCode::kInvalidValue, path + " holds a private key that is not RSA");
  }
  if (EVP_PKEY_get_bits(key.get()) < 2048) {
    return Error(ErrorCode::kInvalidValue, path + ": RS256 needs an RSA key of 2048 bits or more");
  }
  return std::unique_ptr<SetSigner>(std::make_unique<Rs256Signer>(std::move(key)));
}

Result<std::string> SetSigner::Sign(std::string_view header_json,
                                    std::string_view claims_json) const {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(claims_json);
  SCIM_TRY(auto signature, SignBytes(input));
  return input + "." + Base64UrlEncode(signature);
}

}  // namespace scim::adapters::webhook
