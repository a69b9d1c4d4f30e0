#pragma once
// The chat page served at "/": src/serve/chat_page.html, compiled into the binary at build time so
// the server needs no files beside itself.
#include <string>

namespace vista::serve {

const std::string& chat_page_html();

}  // namespace vista::serve
