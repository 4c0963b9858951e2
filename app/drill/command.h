// `mambogo drill ...`: drills without a window, for CI, GameDay scripts and graders.
//
//   mambogo drill list                       the built-in drills (id, title, questions)
//   mambogo drill check FILE...              parse only; file:line: reason for a bad one
//   mambogo drill run NAME|FILE [--report out.html] [--pdf out.pdf] [--fast]
//                     [--kubeconfig FILE] [--context NAME] [--gateway URL]
//                     [--token FILE] [--admin-token FILE] [--predict ID=VALUE]...
//
// run connects with the kubeconfig (default: the local cluster's, launching it first when it
// is not running, and stopping it afterwards), runs the drill, prints progress and the
// expectations, writes the reports and exits 0 only when the verdict is PASSED (1 failed or
// aborted, 2 bad usage or a drill file refused, 3 could not run). Tokens default to the local
// cluster's (<kubeconfig dir>/auth/user.jwt and admin.jwt). --predict answers one of the drill's
// predictions before the run ("predict first"; `check` lists their ids); the report scores it.
//
// Thread-safety: call from main() before any QCoreApplication exists; it creates its own.
#pragma once

namespace mambogo::drill {

int runDrillCommand(int argc, char** argv);  // argv[1] is "drill"

}  // namespace mambogo::drill
