// The peer of `vista bench train --peer` stepping in turn with vista: the session's line protocol
// (util/peer_process.h) and PairedPeer's checks of what the peer answers, against small shell
// programs standing in for the Python peer.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "test_util.h"
#include "train/peer_bench.h"
#include "util/peer_process.h"

namespace {

using std::chrono::seconds;

// A peer that is ready, echoes each line it reads as {"got": line} after a line that is no JSON,
// and says goodbye to `end`.
const char* kEchoPeer =
    R"(echo '{"ready": true}'; while read l; do if [ "$l" = end ]; then echo '{"bye": 1}'; exit 0; fi; )"
    R"(echo 'a line of progress'; echo "{\"got\": \"$l\"}"; done)";

TEST(PeerSession, AnswersEachLineWithTheNextJsonLineAndEnds) {
  vista::PeerSession peer(kEchoPeer, seconds(30));
  EXPECT_TRUE(peer.reply("ready").at("ready").get<bool>());
  EXPECT_EQ(peer.request("one").at("got"), "one");
  EXPECT_EQ(peer.request("two").at("got"), "two");
  EXPECT_EQ(peer.finish("end").at("bye"), 1);
}

TEST(PeerSession, APeerThatEndsEarlySaysHowAndWhatWentUnanswered) {
  vista::PeerSession peer("echo '{\"ready\": true}'; read l; exit 3", seconds(30));
  peer.reply("ready");
  expect_error_containing([&] { peer.request("step"); }, {"ended (exit status 3)", "without answering 'step'"});
}

TEST(PeerSession, APeerThatGivesNoAnswerIsKilledAfterItsPatience) {
  const auto start = std::chrono::steady_clock::now();
  {
    vista::PeerSession peer("sleep 60", seconds(1));
    expect_error_containing([&] { peer.reply("its warm-up"); }, {"no answer to its warm-up within 1 s", "killed"});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20));
}

TEST(PeerSession, APeerThatFailsAfterItsLastAnswerFailsTheFinish) {
  vista::PeerSession peer(R"(read l; echo '{"summary": 1}'; exit 4)", seconds(30));
  expect_error_containing([&] { peer.finish("end"); }, {"exit status 4", "after its last answer"});
}

TEST(PeerSession, ALineThatIsNoJsonObjectIsPassedOnNotParsed) {
  vista::PeerSession peer(R"(echo 'progress: 3/4'; echo '{"broken": '; exec sleep 5)", seconds(30));
  expect_error_containing([&] { peer.reply("ready"); }, {"a line that is no JSON", "{\"broken\": "});
}

// A peer folder whose setup prints a "python" that is the shell peer given.
std::string fake_peer_dir(const TempDir& dir, const std::string& peer_body) {
  write_file(dir.file("peer_train_step.py"), "");
  write_file(dir.file("fake_python"), "#!/bin/sh\n" + peer_body + "\n");
  std::filesystem::permissions(dir.file("fake_python"), std::filesystem::perms::owner_all);
  write_file(dir.file("setup_peer.sh"), "echo " + dir.file("fake_python") + "\n");
  return dir.path();
}

TEST(PairedPeer, TimesOneStepPerRequestAndHandsBackTheSummary) {
  TempDir dir;
  const auto peer_dir = fake_peer_dir(dir, R"(case "$*" in *--threads\ 2\ --paired*) ;; *) exit 9;; esac
echo '{"ready": true}'
n=0
while read l; do
  if [ "$l" = end ]; then
    echo '{"peer": "fake", "step_s_median": 1.5, "peak_rss_mb": 10, "user_s_per_step": 3, "sys_s_per_step": 0.1}'
    exit 0
  fi
  n=$((n + 1)); echo "{\"step_s\": $n.5}"
done)");
  vista::train::PairedPeer peer(peer_dir, "config.json", 2);
  peer.start(2);
  EXPECT_DOUBLE_EQ(peer.step(), 1.5);
  EXPECT_DOUBLE_EQ(peer.step(), 2.5);
  EXPECT_EQ(peer.finish().at("peer"), "fake");
}

TEST(PairedPeer, NamesAnAnswerWithoutItsStepTime) {
  TempDir dir;
  const auto peer_dir = fake_peer_dir(dir, R"(echo '{"ready": true}'; read l; echo '{"loss": 2}'; read l)");
  vista::train::PairedPeer peer(peer_dir, "config.json", 2);
  peer.start(2);
  expect_error_containing([&] { peer.step(); }, {"answered 'step' with {\"loss\":2}", "step_s"});
}

TEST(PairedPeer, NamesASummaryWithoutThePeakRss) {
  TempDir dir;
  const auto peer_dir = fake_peer_dir(dir, R"(echo '{"ready": true}'; read l; echo '{"step_s_median": 1}')");
  vista::train::PairedPeer peer(peer_dir, "config.json", 2);
  peer.start(2);
  expect_error_containing([&] { peer.finish(); }, {"summary line has no \"peak_rss_mb\""});
}

}  // namespace

namespace {

TEST(PairedPeer, NamesAFirstLineThatIsNotReadyAndRefusesNoRounds) {
  TempDir dir;
  const auto peer_dir = fake_peer_dir(dir, R"(echo '{"loading": true}'; read l)");
  vista::train::PairedPeer peer(peer_dir, "config.json", 2);
  expect_error_containing([&] { peer.start(2); }, {"first line should be {\"ready\": true}", "{\"loading\":true}"});
  expect_error_containing([&] { vista::train::PairedPeer(peer_dir, "config.json", 0); },
                          {"--rounds 0", "at least one round"});
}

}  // namespace
