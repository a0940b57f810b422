# sysvm's VM library for Nix.
#
#   vm = import ./lib/vm-shell.nix { inherit pkgs lib; sysvm = <package>; };
#   # from the flake: sysvm.lib.${system}  (sysvm there is the flake's package)
#
# Every function takes one attribute set, and every function accepts the same
# names, so one set can be passed to all of them:
#
#   projectDir   the project directory (default: the shell's current directory;
#                generateLimaConfig needs it, as an absolute path string)
#   projectName  the project's name: its Zellij session and the stem of its VM
#                name (default: sysvm.yaml's `name:`, else derived from the
#                directory by sysvm)
#   vmName       the Lima instance name, which sysvm makes <projectName>-dev;
#                an alternative to projectName, so it must end in -dev
#   image        a Lima image: a URL, or a qcow2 path relative to projectDir
#   cpus         number of CPUs, e.g. 4
#   memory       e.g. "8GiB"; a bare number means GiB
#   disk         e.g. "50GiB"; a bare number means GiB
#   ports        forwarded ports: 3000 or "8080:80" (HOST:GUEST)
#   verbose      log every limactl and ssh step to stderr (default false)
#   background   ensureVM only: return at once, boot detached (default false)
#   json         vmStatus only: print JSON (default false)
#   system       generateLimaConfig only: the host, e.g. "aarch64-darwin"
#                (default: pkgs' host platform)
#
# image, cpus, memory, disk and ports left unset are not passed to sysvm, so
# sysvm.yaml and the VM_* variables still apply; generateLimaConfig uses
# sysvm's defaults for them (4 CPUs, 4GiB, 50GiB, Ubuntu 24.04).
#
# vmExists, vmRunning, ensureVM, enterVM, stopVM, destroyVM and vmStatus
# return shell snippets that run sysvm, so the logic lives in one place.
# vmExists and vmRunning are conditions: exit status 0 means yes. None of them
# execs into the VM. enterVM belongs in a script or a task, never in a
# shellHook: entering the VM on cd is the job of sysvm's shell hook
# (`sysvm hook bash`), which runs in the interactive shell after direnv.
{ pkgs, lib, sysvm ? pkgs.sysvm or null, ... }:
let
  inherit (builtins) match elemAt toJSON toString stringLength substring;

  known = [
    "projectDir" "projectName" "vmName" "image" "cpus" "memory" "disk" "ports"
    "verbose" "background" "json" "system"
  ];
  fail = msg: throw "sysvm lib/vm-shell.nix: ${msg}";

  # q quotes a string as one word for sh, bash and zsh.
  q = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
  hasSuffix = suf: s:
    stringLength suf <= stringLength s
    && substring (stringLength s - stringLength suf) (stringLength suf) s == suf;
  hasPrefix = pre: s: substring 0 (stringLength pre) s == pre;
  dropSuffix = suf: s: substring 0 (stringLength s - stringLength suf) s;

  exe = q (if sysvm == null then "sysvm" else "${sysvm}/bin/sysvm");

  # check rejects argument names no function knows, so a typo fails loudly.
  check = args:
    let unknown = builtins.filter (n: !(builtins.elem n known)) (builtins.attrNames args);
    in if unknown == [ ] then args
    else fail "unknown argument(s) ${toJSON unknown}; known: ${toJSON known}";

  # Lima's instance-name rule; sysvm keeps a given name unchanged.
  validName = n: match "[A-Za-z0-9]+([._-][A-Za-z0-9]+)*" n != null
    && !(hasSuffix ".yaml" n || hasSuffix ".yml" n);
  checkName = n:
    if validName n then n
    else fail "project name ${toJSON n} is not valid: use letters, digits and single '.', '_' or '-' between them";

  # name returns the project name the arguments give, or null for "let sysvm
  # decide".
  name = args:
    let
      p = args.projectName or null;
      v = args.vmName or null;
      fromVM =
        if hasSuffix "-dev" v then dropSuffix "-dev" v
        else fail "vmName ${toJSON v} must end in -dev: sysvm names a project's VM <projectName>-dev (or pass projectName)";
    in
    if p != null && v != null && v != "${p}-dev" then
      fail "vmName ${toJSON v} does not match projectName ${toJSON p} (sysvm names the VM ${p}-dev)"
    else if p != null then checkName p
    else if v != null then checkName fromVM
    else null;

  # Size, CPU and port rules mirror sysvm's (limaconfig/settings.go).
  size = what: v:
    let m = match "[[:space:]]*([0-9]+(\\.[0-9]+)?)[[:space:]]*([KMGT]i?B?|B)?[[:space:]]*" (toString v);
    in if v == null then null
    else if m == null then fail "${what} ${toJSON v} is not a size such as 8GiB or 512MiB"
    else if elemAt m 2 == null then "${elemAt m 0}GiB"
    else elemAt m 0 + elemAt m 2;

  toInt = what: s:
    let m = match "0*([0-9]+)" s;
    in if m == null then fail "${what} ${toJSON s} is not a whole number" else builtins.fromJSON (elemAt m 0);

  cpuCount = v:
    let n = if builtins.isInt v then v else toInt "cpus" (toString v);
    in if v == null then null
    else if n < 1 || n > 512 then fail "cpus ${toJSON v} is not a whole number between 1 and 512"
    else n;

  port = spec:
    let
      s = toString spec;
      m = match "([0-9]+)(:([0-9]+))?" s;
      h = toInt "port" (elemAt m 0);
      g = if elemAt m 2 == null then h else toInt "port" (elemAt m 2);
    in
    if m == null then fail "port ${toJSON spec} is not PORT or HOST:GUEST"
    else if h < 1 || h > 65535 || g < 1 || g > 65535 then fail "port ${toJSON spec} is out of range 1-65535"
    else if h == 22 || g == 22 then fail "port ${toJSON spec}: 22 is the VM's own SSH port and cannot be forwarded"
    else { host = h; guest = g; };

  portSpec = p: if p.host == p.guest then toString p.host else "${toString p.host}:${toString p.guest}";

  # Flags every command takes, and the project directory after `--`.
  common = args:
    let n = name args;
    in lib.optionalString (n != null) " --name ${q n}"
      + lib.optionalString (args.verbose or false) " --verbose";
  target = args:
    lib.optionalString ((args.projectDir or null) != null) " -- ${q (toString args.projectDir)}";

  resources = args:
    let
      opt = flag: v: lib.optionalString (v != null) " --${flag} ${q v}";
      cpus = cpuCount (args.cpus or null);
    in
    opt "cpus" (if cpus == null then null else toString cpus)
    + opt "memory" (size "memory" (args.memory or null))
    + opt "disk" (size "disk" (args.disk or null))
    + opt "image" (args.image or null)
    + lib.concatMapStringsSep "" (p: " --port ${q (portSpec (port p))}") (args.ports or [ ]);

  # run is `sysvm <cmd> <flags> [-- dir]`.
  run = cmd: extra: args: "${exe} ${cmd}${common args}${extra}${target args}";

  # state tests the VM's state from `sysvm status --json` (its JSON is
  # indented, one key per line) in a subshell, leaving no variables behind.
  stateIs = args: body:
    "(sysvm_status=$(${run "status" " --json" args}) || exit; case $sysvm_status in ${body} esac)";

  defaultImages = [
    { location = "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img"; arch = "x86_64"; }
    { location = "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-arm64.img"; arch = "aarch64"; }
  ];
in
{
  # generateLimaConfig returns the project's Lima config as JSON, which is
  # YAML: the config `sysvm config` prints for the same arguments, for a
  # project without sysvm.yaml and with no VM_* variables set.
  generateLimaConfig = args0:
    let
      args = check args0;
      rawDir = toString (args.projectDir or (fail "generateLimaConfig needs projectDir, an absolute path"));
      dir =
        let m = match "(/.*[^/])/*" rawDir;
        in if !(hasPrefix "/" rawDir) then fail "projectDir ${toJSON rawDir} is not an absolute path"
        else if m == null then "/" else elemAt m 0;
      base = builtins.baseNameOf dir;
      slug =
        let n = name args;
        in if n != null then n
        else if match "[a-z0-9]+([._-][a-z0-9]+)*" base != null && !(hasSuffix ".yaml" base || hasSuffix ".yml" base)
          && stringLength base <= 40 then base
        else fail "the directory name ${toJSON base} is not a name sysvm keeps as it is; pass projectName (see `sysvm status` for the one sysvm derives)";
      system = args.system or pkgs.stdenv.hostPlatform.system or pkgs.system;
      sm = match "([^-]+)-(.+)" system;
      arch = elemAt sm 0;
      darwin = elemAt sm 1 == "darwin";
      image =
        let
          i = toString args.image;
          rel = let m = match "(\\./)*(.*)" i; in elemAt m 1;
        in
        if (args.image or null) == null then defaultImages
        else if match ".*://.*" i != null || hasPrefix "/" i || hasPrefix "~" i then [{ location = i; inherit arch; }]
        else [{ location = "${dir}/${rel}"; inherit arch; }];
      cpus = cpuCount (args.cpus or null);
      ports = map port (args.ports or [ ]);
      ignoreAll = ip: { guestIP = ip; guestPortRange = [ 1 65535 ]; ignore = true; };
    in
    if sm == null then fail "system ${toJSON system} is not ARCH-OS such as x86_64-linux"
    else
      toJSON {
        minimumLimaVersion = "1.0.0";
        vmType = if darwin then "vz" else "qemu";
        inherit arch;
        cpus = if cpus == null then 4 else cpus;
        memory = if (args.memory or null) == null then "4GiB" else size "memory" args.memory;
        disk = if (args.disk or null) == null then "50GiB" else size "disk" args.disk;
        images = image;
        mounts = [{ location = dir; mountPoint = dir; writable = true; }];
        mountType = if darwin then "virtiofs" else "9p";
        containerd = { system = false; user = false; };
        ssh = { loadDotSSHPubKeys = false; forwardAgent = false; };
        portForwards = map (p: { guestPort = p.guest; hostPort = p.host; }) ports
          ++ [ (ignoreAll "127.0.0.1") (ignoreAll "0.0.0.0") ];
        env = { PROJECT_NAME = slug; SYSINIT_IN_VM = "1"; ZELLIJ_SESSION = slug; };
      };

  # vmExists succeeds when the project's VM has been created.
  vmExists = args: stateIs (check args) "*'\"state\": \"NotCreated\"'*) exit 1 ;;";

  # vmRunning succeeds when the project's VM is running.
  vmRunning = args: stateIs (check args) "*'\"state\": \"Running\"'*) exit 0 ;; *) exit 1 ;;";

  # ensureVM creates the VM the first time and starts it when stopped; it
  # does nothing when the VM runs. With background = true it returns at once.
  ensureVM = args0:
    let args = check args0;
    in run "up" (resources args
      + lib.optionalString (args.background or false) " --background") args;

  # enterVM attaches the terminal to the project's Zellij session in its VM.
  # Interactive: for scripts and tasks, never for a shellHook.
  enterVM = args: run "attach" "" (check args);

  # stopVM stops the VM; its disk and the session's files stay.
  stopVM = args: run "stop" "" (check args);

  # destroyVM deletes the VM without asking; the project's files are untouched.
  destroyVM = args: run "destroy" " --yes" (check args);

  # vmStatus prints the project, its VM and its session (JSON with json = true).
  vmStatus = args0:
    let args = check args0;
    in run "status" (lib.optionalString (args.json or false) " --json") args;
}
