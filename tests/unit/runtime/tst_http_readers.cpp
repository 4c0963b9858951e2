// The HTTP/1 readers (runtime/http_readers.h) that put Beast's parse straight into Request and
// Response: fields in the order and spelling received, chunked and length-framed bodies, the
// version and keep-alive, an interim 1xx leaving nothing behind in the final response, the
// first Content-Type winning (as Beast's message gave it), and the limits and malformed input
// still refused by Beast's grammar.
#include <QtTest>

#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>

#include "runtime/http_readers.h"

using namespace mambogo::runtime;
namespace http = boost::beast::http;

namespace {

// Feeds `text` to the parser in pieces of at most `piece` bytes, as a socket might deliver it;
// returns the first error other than need_more.
template <bool isRequest>
boost::beast::error_code feed(http::basic_parser<isRequest>& parser, std::string_view text, std::size_t piece) {
  parser.eager(true);
  std::string pending;
  boost::beast::error_code ec;
  for (std::size_t at = 0; at < text.size() && !parser.is_done();) {
    const std::size_t n = std::min(piece, text.size() - at);
    pending.append(text.substr(at, n));
    at += n;
    while (!pending.empty() && !parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return ec;
      if (used == 0) break;
    }
  }
  return ec;
}

}  // namespace

class TestHttpReaders : public QObject {
  Q_OBJECT
 private slots:
  void aChunkedRequestInPieces() {
    for (std::size_t piece : {1, 7, 4096}) {
      Request r;
      RequestReader parser(r);
      const auto ec = feed(parser,
                           "POST /orders?x=1 HTTP/1.1\r\nHost: shop\r\nX-Dup: 1\r\nx-dup: 2\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                           piece);
      QVERIFY2(!ec, ec.message().c_str());
      QVERIFY(parser.is_done());
      QCOMPARE(r.method, Method::post);
      QCOMPARE(r.method_token, std::string("POST"));
      QCOMPARE(r.target, std::string("/orders?x=1"));
      QCOMPARE(parser.version(), 11u);
      QVERIFY(parser.keep_alive());
      QCOMPARE(r.headers.size(), std::size_t(4));
      QCOMPARE(r.headers[1].name, std::string("X-Dup"));  // as sent, in order
      QCOMPARE(r.headers[2].name, std::string("x-dup"));
      QCOMPARE(r.headers[2].value, std::string("2"));
      QCOMPARE(r.body, std::string("hello world"));
    }
  }

  void anHttp10RequestIsNotKeptAlive() {
    Request r;
    RequestReader parser(r);
    QVERIFY(!feed(parser, "GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 4096));
    QCOMPARE(parser.version(), 10u);
    QVERIFY(!parser.keep_alive());
    QCOMPARE(r.body, std::string("abc"));
  }

  void anInterimResponseLeavesNothingBehind() {
    Response out;
    {
      ResponseReader interim(out);
      QVERIFY(!feed(interim, "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n", 4096));
      QCOMPARE(out.status, 100);
    }
    ResponseReader parser(out);
    QVERIFY(!feed(parser,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-type: application/json\r\n"
                  "Content-Length: 2\r\n\r\nok",
                  3));
    QCOMPARE(out.status, 200);
    QCOMPARE(out.content_type, std::string("text/plain"));  // the first, as Beast's message[] gave it
    QCOMPARE(out.headers.size(), std::size_t(3));           // not X-Interim
    QCOMPARE(out.headers[1].name, std::string("content-type"));
    QCOMPARE(out.body, std::string("ok"));
    QVERIFY(parser.keep_alive());
  }

  void noContentTypeIsEmptyNotJson() {
    Response out;  // a Response starts as application/json
    ResponseReader parser(out);
    QVERIFY(!feed(parser, "HTTP/1.1 204 No Content\r\n\r\n", 4096));
    QCOMPARE(out.status, 204);
    QCOMPARE(out.content_type, std::string());
  }

  void limitsAndMalformedInputAreStillRefused() {
    {
      Request r;
      RequestReader parser(r);
      parser.body_limit(4);
      QCOMPARE(feed(parser, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 4096),
               boost::beast::error_code(http::error::body_limit));
      QVERIFY(r.body.empty());
    }
    {
      Request r;
      RequestReader parser(r);
      parser.header_limit(64);
      const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(100, 'a') + "\r\n\r\n";
      QCOMPARE(feed(parser, big, 4096), boost::beast::error_code(http::error::header_limit));
    }
    {
      Request r;
      RequestReader parser(r);
      QVERIFY(feed(parser, "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 4096));
    }
    {
      Response out;
      ResponseReader parser(out);
      QVERIFY(feed(parser, "HTTP/1.1 2x0 OK\r\n\r\n", 4096));
    }
  }
};

QTEST_APPLESS_MAIN(TestHttpReaders)
#include "tst_http_readers.moc"
