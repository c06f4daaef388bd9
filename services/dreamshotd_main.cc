// dreamshotd: hosts the DreamShot gRPC services on one port.
#include <glog/logging.h>

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/strip.h"
#include "core/cpu_init.h"
#include "services/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "address:port to listen on (port 0: any free port)");
ABSL_FLAG(std::string, data_dir, "",
          "folder for the experiment store and artifacts (default: $DREAMSHOT_DATA or ./dreamshot-data)");
ABSL_FLAG(std::string, store, "", "experiment store file (default: <data_dir>/experiments.db)");
ABSL_FLAG(std::string, auth_token_file, "",
          "file holding a bearer token that every RPC must present (default: no authentication)");
// Small on purpose: gRPC receives and parses a whole request message before
// any service code sees it (see ServerOptions::max_message_bytes); files go
// through the UploadArtifact stream, one 1 MiB chunk at a time.
ABSL_FLAG(int, max_message_mb, 4, "largest request message, in MiB (upload files with UploadArtifact)");
ABSL_FLAG(int, max_response_mb, 64, "largest response message, in MiB");
ABSL_FLAG(int64_t, max_artifact_mb, 4096, "largest artifact an upload may store, in MiB");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once serving (for scripts)");
ABSL_FLAG(double, model_cache_gb, 12, "memory for loaded models kept between requests, in GiB");
ABSL_FLAG(int, queue_capacity, 16, "jobs waiting or running per device before new ones are refused");
ABSL_FLAG(int, jobs_per_device, 1, "jobs running at once on each device (pool builds: always one)");
ABSL_FLAG(int, max_auto_retries, 3,
          "times an interrupted pool build is queued again by itself before it waits for `dreamshot jobs retry`");
ABSL_FLAG(std::string, survey_listen, "127.0.0.1:8080",
          "host:port of the survey's participant pages (port 0: any free port; empty: off)");
ABSL_FLAG(std::string, survey_port_file, "", "write the survey pages' bound port to this file (for scripts)");
// Per client address; a class behind one NAT address shares them.
ABSL_FLAG(double, survey_requests_per_s, 30, "survey pages: requests per second per address (burst 2x; 0: no limit)");
ABSL_FLAG(double, survey_joins_per_minute, 20, "survey pages: new participants per minute per address (0: no limit)");
ABSL_FLAG(int, threads, 0, "CPU threads for the networks (0: $OMP_NUM_THREADS or every core)");

namespace {

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LOG(ERROR) << "cannot read --auth_token_file " << path;
    std::exit(2);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(buffer.str()));
  if (token.empty()) {
    LOG(ERROR) << "--auth_token_file " << path << " is empty";
    std::exit(2);
  }
  return token;
}

// Survey participants each hold a few connections; the default soft limit
// (1024 descriptors) would cap them well below what the machine allows.
void RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 65536);
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("dreamshotd: the DreamShot gRPC server (see README.md)");
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  dreamshot::services::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (options.data_dir.empty()) {
    const char* env = std::getenv("DREAMSHOT_DATA");
    options.data_dir = env && *env ? env : "dreamshot-data";
  }
  options.store_path = absl::GetFlag(FLAGS_store);
  if (!absl::GetFlag(FLAGS_auth_token_file).empty()) {
    options.auth_token = ReadToken(absl::GetFlag(FLAGS_auth_token_file));
  }
  if (absl::GetFlag(FLAGS_max_message_mb) < 1 || absl::GetFlag(FLAGS_max_message_mb) > 2047 ||
      absl::GetFlag(FLAGS_max_response_mb) < 1 || absl::GetFlag(FLAGS_max_response_mb) > 2047 ||
      absl::GetFlag(FLAGS_max_artifact_mb) < 1) {
    std::cerr << "dreamshotd: --max_message_mb and --max_response_mb must be 1..2047, --max_artifact_mb at least 1\n";
    return 2;
  }
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_mb) << 20;
  options.max_send_message_bytes = absl::GetFlag(FLAGS_max_response_mb) << 20;
  options.max_artifact_bytes = absl::GetFlag(FLAGS_max_artifact_mb) << 20;
  options.model_cache_bytes = static_cast<int64_t>(absl::GetFlag(FLAGS_model_cache_gb) * (1 << 30));
  options.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
  options.jobs_per_device = absl::GetFlag(FLAGS_jobs_per_device);
  options.max_auto_retries = absl::GetFlag(FLAGS_max_auto_retries);
  if (options.queue_capacity < 1 || options.jobs_per_device < 1 || options.max_auto_retries < 0) {
    std::cerr << "dreamshotd: --queue_capacity and --jobs_per_device must be at least 1, --max_auto_retries at "
                 "least 0\n";
    return 2;
  }
  options.survey_listen = absl::GetFlag(FLAGS_survey_listen);
  options.survey_web.requests_per_s = absl::GetFlag(FLAGS_survey_requests_per_s);
  options.survey_web.request_burst = 2 * options.survey_web.requests_per_s;
  options.survey_web.joins_per_minute = absl::GetFlag(FLAGS_survey_joins_per_minute);
  if (options.survey_web.requests_per_s < 0 || options.survey_web.joins_per_minute < 0) {
    std::cerr << "dreamshotd: --survey_requests_per_s and --survey_joins_per_minute must not be negative\n";
    return 2;
  }
  // SIGINT and SIGTERM are blocked in every thread (threads inherit the
  // mask of the one that starts them, so block before any exists) and
  // taken by sigwait below: shutdown then runs on the main thread, in
  // order, instead of inside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  RaiseOpenFileLimit();

  // After the signal mask (setting the thread count may start LibTorch's
  // thread pool) and before anything that must not happen twice: it may
  // re-execute dreamshotd, which repeats only the set-up above. Its caching
  // allocator: generation reuses the same large activation blocks every step.
  const dreamshot::core::CpuSettings cpu = dreamshot::core::InitCpu(argv, {absl::GetFlag(FLAGS_threads)});

  auto server = dreamshot::services::DreamshotServer::Start(options);
  if (!server.ok()) {
    LOG(ERROR) << "dreamshotd cannot start: " << server.status();
    return 1;
  }
  const dreamshot::jobs::RecoveryReport& recovery = (*server)->recovery();
  if (recovery.interrupted > 0 || recovery.failed_runs > 0) {
    LOG(WARNING) << "found " << recovery.interrupted << " job(s) a previous server left running: "
                 << recovery.resumed << " queued again to resume, " << recovery.interrupted - recovery.resumed
                 << " left interrupted (`dreamshot jobs retry`); " << recovery.failed_runs
                 << " run(s) marked failed";
  }
  if (recovery.queued > 0) LOG(INFO) << recovery.queued << " queued job(s) from before the restart run now";
  LOG(INFO) << "dreamshotd serving on port " << (*server)->port() << " with store "
            << (*server)->store_path() << ", " << cpu.threads << " CPU threads"
            << (options.auth_token.empty() ? "" : " (bearer token required)");
  if ((*server)->survey_port() > 0) {
    LOG(INFO) << "survey pages on http://" << options.survey_listen.substr(0, options.survey_listen.rfind(':')) << ":"
              << (*server)->survey_port() << "/s/<survey>";
  }
  if (!absl::GetFlag(FLAGS_survey_port_file).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_survey_port_file)) << (*server)->survey_port() << "\n";
  }
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_port_file)) << (*server)->port() << "\n";
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  LOG(INFO) << "dreamshotd stopping (" << strsignal(signal) << "): cancelling jobs, closing connections";
  (*server)->Shutdown();
  server->reset();  // the store closes last
  LOG(INFO) << "dreamshotd stopped";
  return 0;
}
