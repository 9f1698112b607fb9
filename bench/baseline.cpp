// Against the baseline: the same LB work (enable 20 new servers and wait
// until UP, drain and disable 20 old and wait) done by an Ansible playbook
// with community.general.haproxy (Debian's ansible package) on one HAProxy
// pair, and by `lbctl cutover` on another, side by side in the same run
// (the goal: Ansible takes at least 20x longer). The Ansible side
// gets the new servers declared `disabled` in haproxy.cfg, since the module
// cannot add servers, and its smallest wait_interval (1 s).
//
// Usage: bench_baseline [--servers N] [--json FILE]

#include <cstdio>
#include <fmt/format.h>

#include "bench/support.hpp"

using namespace lbctl::bench;
using namespace std::chrono_literals;

namespace {

const char* k_playbook = R"(- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: enable the new servers and wait until they are UP
      community.general.haproxy:
        state: enabled
        host: "{{ item.1 }}"
        backend: app
        socket: "{{ item.0 }}"
        wait: true
        wait_interval: 1
        wait_retries: 120
      loop: "{{ sockets | product(new_servers) | list }}"
    - name: drain and disable the old servers and wait
      community.general.haproxy:
        state: disabled
        drain: true
        host: "{{ item.1 }}"
        backend: app
        socket: "{{ item.0 }}"
        wait: true
        wait_interval: 1
        wait_retries: 120
      loop: "{{ sockets | product(old_servers) | list }}"
)";

}  // namespace

namespace {

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const auto servers = static_cast<std::size_t>(int_arg(args, "servers", 20));
  lbctl::test::TempDir dir;

  // Ansible on its own pair.
  FleetOptions ansible_options;
  ansible_options.old_servers = ansible_options.new_servers = servers;
  ansible_options.new_in_config = true;
  BenchFleet ansible_fleet(ansible_options);
  nlohmann::json vars = {{"sockets", nlohmann::json::array()}, {"new_servers", nlohmann::json::array()},
                         {"old_servers", nlohmann::json::array()}};
  for (std::size_t i = 0; i < ansible_fleet.lb_count(); ++i) vars["sockets"].push_back(ansible_fleet.lb(i).socket_path());
  for (std::size_t i = 1; i <= servers; ++i) {
    vars["new_servers"].push_back(fmt::format("v2-{}", i));
    vars["old_servers"].push_back(fmt::format("old-{}", i));
  }
  const auto playbook = dir.write("playbook.yml", k_playbook);
  const auto vars_file = dir.write("vars.json", vars.dump());
  const auto started = std::chrono::steady_clock::now();
  const auto ansible = lbctl::test::run_command(
      {"ansible-playbook", "-i", "localhost,", playbook.string(), "-e", "@" + vars_file.string()}, 30min,
      {{"ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3"}, {"ANSIBLE_LOCALHOST_WARNING", "False"},
       {"ANSIBLE_NOCOLOR", "1"}});
  const double ansible_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (ansible.exit_code != 0) {
    std::fprintf(stderr, "bench_baseline: ansible-playbook failed (exit %d):\n%s\n", ansible.exit_code,
                 ansible.out.c_str());
    return 1;
  }
  const bool ansible_done = ansible_fleet.lb(0).status("v2-1") == "UP" && ansible_fleet.lb(1).status("old-1") == "MAINT";

  // lbctl on another, the whole cutover (verification and journal included).
  FleetOptions lbctl_options;
  lbctl_options.old_servers = lbctl_options.new_servers = servers;
  BenchFleet lbctl_fleet(lbctl_options);
  const auto cutover = lbctl_fleet.lbctl({"cutover", "--yes"});
  if (cutover.exit_code != 0 || !ansible_done) {
    std::fprintf(stderr, "bench_baseline: lbctl exit %d, ansible left the servers as asked: %s\n%s\n",
                 cutover.exit_code, ansible_done ? "yes" : "no", cutover.out.c_str());
    return 1;
  }
  const double ratio = ansible_s / cutover.wall_s;
  const auto label = fmt::format("{} old + {} new on 2 LBs", servers, servers);
  std::vector<Figure> figures = {
      {"Ansible community.general.haproxy, " + label, ansible_s, "s", "", true},
      {"lbctl cutover, " + label, cutover.wall_s, "s", "", true},
      {"Ansible's time over lbctl's", ratio, "x", ">= 20", ratio >= 20},
  };
  const auto json = args.contains("json") ? args.at("json") : std::string();
  return report("baseline", figures, json);
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_baseline", [&] { return run(argc, argv); });
}
