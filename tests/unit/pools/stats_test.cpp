#include "tests/support/catch.hpp"

#include <map>

#include "pools/answer.hpp"
#include "pools/haproxy_socket.hpp"
#include "pools/stats.hpp"

using namespace lbctl;
using namespace lbctl::pools;

namespace {

// Captured from HAProxy 2.6.12: `show stat app 4 -1`.
const std::string k_header =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
    "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,"
    "check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,"
    "req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,"
    "rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,"
    "agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,"
    "wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,"
    "idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,"
    "agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,"
    "h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,"
    "h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,"
    "h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";
const std::string k_row_up =
    "app,old-1,0,0,3,5,,17,0,0,,0,,0,0,0,0,UP,1,1,0,1,1,0,1,,1,3,1,,0,,2,0,,0,L7OK,200,0,0,15,0,1,2,0,,,,0,0,0,,,,,-1,,"
    ",0,0,0,0,,,,Layer7 check passed,,2,2,3,,,,127.0.0.1:18081,,http,,,,,,,,0,0,0,,,4,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,"
    ",,,,,,,,,,,,,,,,,,,\n";
const std::string k_row_nolb =
    "app,v2-1,1,0,0,0,,0,0,0,,0,,0,0,0,0,NOLB,1,1,0,1,1,0,1,,1,3,1001,,0,,2,0,,0,L7OKC,404,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,"
    ",,0,0,0,0,,,,Layer7 check conditionally passed,,2,2,3,,,,127.0.0.1:18082,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,"
    ",,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n";
const std::string k_backend_row =
    "app,BACKEND,0,0,3,5,200,17,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,1,0,,1,3,0,,0,,1,0,,0,,,,0,15,0,1,2,0,,,,,0,0,0,0,0,0,-1,,,0,0,"
    "0,0,,,,,,,,,,,,127.0.0.1:18081,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n";

}  // namespace

TEST_CASE("show stat is parsed by header name into server records", "[pools][stats]") {
  auto servers = parse_show_stat(k_header + k_row_up + k_row_nolb + k_backend_row, "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 2);
  const auto& up = (*servers)[0];
  CHECK(up.name == "old-1");
  CHECK(up.address == "127.0.0.1:18081");
  CHECK(up.status == "UP");
  CHECK(up.scur == 3);
  CHECK(up.stot == 17);
  CHECK(up.srv_icur == 4);
  CHECK(up.check_status == "L7OK");
  CHECK(up.hrsp_5xx == 2);
  CHECK(up.responses == 18);
  CHECK(up.id == 1);
  CHECK(up.is_up());
  CHECK(up.is_fully_up());
  CHECK(up.sessions() == 3);
  const auto& nolb = (*servers)[1];
  CHECK(nolb.name == "v2-1");
  CHECK(nolb.is_nolb());
  CHECK_FALSE(nolb.is_up());
  CHECK(nolb.qcur == 1);
  CHECK(nolb.id == 1001);
  CHECK_FALSE(nolb.check_passed());
}

TEST_CASE("show stat columns in another order parse the same", "[pools][stats]") {
  const std::string text =
      "# svname,pxname,type,status,scur,qcur,srv_icur,check_status,addr\n"
      "web-1,app,2,UP 1/3,2,0,0,L7OK,127.1.1.1:80\n"
      "web-2,other,2,UP,0,0,0,L7OK,127.1.1.2:80\n";
  auto servers = parse_show_stat(text, "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 1);
  CHECK((*servers)[0].name == "web-1");
  CHECK((*servers)[0].status == "UP 1/3");
  CHECK((*servers)[0].is_up());
  CHECK_FALSE((*servers)[0].is_fully_up());
  CHECK((*servers)[0].scur == 2);
}

TEST_CASE("every HAProxy status string is classified", "[pools][stats]") {
  auto with_status = [](std::string status) {
    ServerStat s;
    s.status = std::move(status);
    return s;
  };
  CHECK(with_status("UP").is_fully_up());
  CHECK(with_status("UP 1/3").is_up());
  CHECK_FALSE(with_status("DOWN").is_up());
  CHECK_FALSE(with_status("DOWN 1/2").is_up());
  CHECK(with_status("NOLB").is_nolb());
  CHECK(with_status("NOLB 1/2").is_nolb());
  CHECK(with_status("DRAIN").is_drain());
  CHECK(with_status("MAINT").is_maint());
  CHECK(with_status("MAINT (via app/old-1)").is_maint());
  CHECK(with_status("MAINT (resolution)").is_maint());
  CHECK(with_status("no check").is_up());
  CHECK_FALSE(with_status("MAINT").is_up());
}

TEST_CASE("a quoted CSV field with a comma stays one field", "[pools][stats]") {
  const std::string text =
      "# pxname,svname,type,status,check_status,scur,qcur,addr\n"
      "app,s1,2,DOWN,L7STS,0,0,\"a,b\"\n";
  auto servers = parse_show_stat(text, "app");
  REQUIRE(servers.has_value());
  CHECK((*servers)[0].address == "a,b");
  CHECK((*servers)[0].status == "DOWN");
}

TEST_CASE("an answer without a header, or missing needed columns, is invalid", "[pools][stats]") {
  auto garbage = parse_show_stat("hello\n", "app");
  REQUIRE_FALSE(garbage.has_value());
  CHECK(garbage.error().kind == ErrorKind::invalid);
  auto no_scur = parse_show_stat("# pxname,svname,type,status,qcur\napp,s1,2,UP,0\n", "app");
  REQUIRE_FALSE(no_scur.has_value());
  CHECK(no_scur.error().message.find("scur") != std::string::npos);
  auto empty = parse_show_stat("", "app");
  REQUIRE_FALSE(empty.has_value());
}

TEST_CASE("an error from HAProxy is surfaced as HAProxy wrote it", "[pools][stats]") {
  auto answer = parse_show_stat("[3]: No such proxy.\n", "nope");
  REQUIRE_FALSE(answer.has_value());
  CHECK(answer.error().kind == ErrorKind::refused);
  CHECK(answer.error().message == "No such proxy.");
}

TEST_CASE("show servers state gives admin flags, ids and user weights", "[pools][stats]") {
  // Captured from HAProxy 2.6.12.
  const std::string text =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
      "srv_check_addr srv_agent_addr srv_agent_port\n"
      "3 app 1 old-1 127.0.0.1 2 0 1 1 1 15 3 3 6 0 0 0 - 18081 - 0 0 - - 0\n"
      "3 app 1002 v2-2 127.0.0.1 0 1 7 1 1 15 3 3 6 0 0 1 - 18081 - 0 0 - - 0\n"
      "4 other 1 x 127.0.0.1 2 8 1 1 1 15 3 3 6 0 0 0 - 18081 - 0 0 - - 0\n";
  auto servers = parse_servers_state(text, "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 2);
  CHECK((*servers)[0].name == "old-1");
  CHECK_FALSE((*servers)[0].in_maint());
  CHECK((*servers)[1].id == 1002);
  CHECK((*servers)[1].in_maint());
  CHECK((*servers)[1].user_weight == 7);
  CHECK((*servers)[0].address == "127.0.0.1:18081");
}

TEST_CASE("show servers state gives each address as show stat writes it, or none when it cannot", "[pools][stats]") {
  // Both captured from HAProxy 2.6.12 for the same backend: show stat's addr
  // column, then the servers state's srv_addr and srv_port.
  const std::string text =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
      "srv_check_addr srv_agent_addr srv_agent_port\n"
      "3 app 1 v4 127.0.0.1 2 0 1 1 1 15 3 3 6 0 0 0 - 9001 - 0 0 - - 0\n"
      "3 app 2 v6 ::1 2 0 1 1 1 15 3 3 6 0 0 0 - 9002 - 0 0 - - 0\n"
      "3 app 3 noport 127.0.0.1 2 0 1 1 1 15 3 3 6 0 0 0 - 0 - 0 0 - - 0\n"
      "3 app 4 unresolved - 2 0 1 1 1 15 3 3 6 0 0 0 nowhere.invalid 9004 - 0 0 - - 0\n"
      "3 app 5 unix - 2 0 1 1 1 15 3 3 6 0 0 0 - 0 - 0 0 - - 0\n";
  auto servers = parse_servers_state(text, "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 5);
  CHECK((*servers)[0].address == "127.0.0.1:9001");
  CHECK((*servers)[1].address == "[::1]:9002");
  CHECK((*servers)[2].address == "127.0.0.1:0");
  CHECK((*servers)[3].address.empty());  // show stat: ""
  CHECK((*servers)[4].address.empty());  // show stat: "unix"
  // An older format without the columns: no address, never a wrong one.
  auto bare = parse_servers_state("1\n# be_id be_name srv_id srv_name srv_op_state srv_admin_state srv_uweight\n"
                                  "3 app 1 a 2 0 1\n",
                                  "app");
  REQUIRE(bare.has_value());
  REQUIRE(bare->size() == 1);
  CHECK(bare->front().address.empty());
}

TEST_CASE("answers with a severity of 3 or less are errors, others are not", "[pools][answer]") {
  CHECK(answer_error("[3]: No such server.\n") == std::optional<std::string>("No such server."));
  CHECK(answer_error("[2]: out of memory\n").has_value());
  CHECK_FALSE(answer_error("").has_value());
  CHECK_FALSE(answer_error("New server registered.\n").has_value());
  CHECK_FALSE(answer_error("[6]: informational\n").has_value());
  CHECK(answer_error("Unknown command: 'foo'\n").has_value());
  CHECK(answer_error("Permission denied\n").has_value());
  CHECK(is_still_connected("[3]: Server still has connections attached to it, cannot remove it.\n"));
  CHECK(answer_text("[6]: a\n[6]: b\n") == "a\nb");
}

TEST_CASE("the prompt-mode stream splits into one answer per command", "[pools][answer]") {
  // Captured: prompt, severity-output, a failed add, an empty success, show servers state.
  PromptStream stream;
  std::vector<std::string> answers;
  stream.feed("\n> \n> [3]: Already exists a server with the same name in backend.\n\n> \n> 1\n# be_id be_name\n3 app\n\n> ",
              answers);
  REQUIRE(answers.size() == 5);
  CHECK(answers[0].empty());
  CHECK(answers[1].empty());
  CHECK(answers[2] == "[3]: Already exists a server with the same name in backend.\n");
  CHECK(answers[3].empty());
  CHECK(answers[4] == "1\n# be_id be_name\n3 app\n");
  CHECK(stream.rest().empty());
}

TEST_CASE("a partial stream keeps its unfinished tail for the next read", "[pools][answer]") {
  PromptStream stream;
  std::vector<std::string> first;
  stream.feed("\n> New server reg", first);
  CHECK(first.size() == 1);
  CHECK(stream.rest() == "New server reg");
  std::vector<std::string> second;
  stream.feed("istered.\n\n> ", second);
  REQUIRE(second.size() == 1);
  CHECK(second[0] == "New server registered.\n");
  // That answer was all the stream held (it is moved out, not copied): the
  // stream goes on empty.
  CHECK(stream.rest().empty());
  std::vector<std::string> third;
  stream.feed("Done.\n\n> tail", third);
  REQUIRE(third.size() == 1);
  CHECK(third[0] == "Done.\n");
  CHECK(stream.rest() == "tail");
}

TEST_CASE("a prompt cut across reads, one byte at a time, is still found", "[pools][answer]") {
  const std::string text = "\n> a\n> \n> b\nc\n>\n> ";
  PromptStream stream;
  std::vector<std::string> answers;
  for (char c : text) stream.feed(std::string_view(&c, 1), answers);
  CHECK(answers == std::vector<std::string>{"", "a", "", "b\nc\n>"});
  CHECK(stream.rest().empty());
}

TEST_CASE("a long answer read in 16 KiB pieces comes out whole", "[pools][answer]") {
  // The cost of reading it is bench_scale's (scripts/bench scale_10k).
  const std::string line(255, 'x');
  std::string text = "\n> ";
  for (int i = 0; i < 16384; ++i) text += line + "\n";
  text += "\n> ";
  PromptStream stream;
  std::vector<std::string> answers;
  for (std::size_t at = 0; at < text.size(); at += 16384) stream.feed(std::string_view(text).substr(at, 16384), answers);
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].size() == 16384u * 256u);
}

TEST_CASE("a check in progress still counts its last completed result", "[pools][stats]") {
  // HAProxy 2.6 prefixes check_status with "* " while a check runs; seen on
  // a server whose check takes 400 ms: [L7OK] [* L7OK] [* L7OK] [L7OK].
  const std::string text =
      "# pxname,svname,type,status,scur,qcur,check_status,addr\n"
      "app,v2-1,2,MAINT,0,0,* L7OK,127.0.0.1:8001\n"
      "app,v2-2,2,MAINT,0,0,* L4CON,127.0.0.1:8002\n"
      "app,v2-3,2,MAINT,0,0,L7OK,127.0.0.1:8003\n";
  auto servers = parse_show_stat(text, "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 3);
  CHECK((*servers)[0].check_status == "L7OK");
  CHECK((*servers)[0].check_running);
  CHECK((*servers)[0].check_passed());
  CHECK((*servers)[1].check_status == "L4CON");
  CHECK_FALSE((*servers)[1].check_passed());
  CHECK((*servers)[2].check_passed());
  CHECK_FALSE((*servers)[2].check_running);
}

TEST_CASE("show stat's failure counters and mean times are read too", "[pools][stats]") {
  // k_row_up with eresp, econ, wretr, rtime and ttime set, by column name.
  std::vector<std::string> names;
  std::vector<std::string> values;
  const std::string header = k_header.substr(2, k_header.size() - 3);
  const std::string row = k_row_up.substr(0, k_row_up.size() - 1);
  for (std::size_t pos = 0, next; pos <= header.size(); pos = next + 1) {
    next = std::min(header.find(',', pos), header.size());
    names.push_back(header.substr(pos, next - pos));
  }
  for (std::size_t pos = 0, next; pos <= row.size(); pos = next + 1) {
    next = std::min(row.find(',', pos), row.size());
    values.push_back(row.substr(pos, next - pos));
  }
  const std::map<std::string, std::string> set{{"eresp", "3"}, {"econ", "4"}, {"wretr", "5"}, {"rtime", "42"}, {"ttime", "97"}};
  std::string edited;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto it = i < names.size() ? set.find(names[i]) : set.end();
    edited += (i == 0 ? "" : ",") + (it == set.end() ? values[i] : it->second);
  }
  auto servers = parse_show_stat(k_header + edited + "\n", "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 1);
  const auto& s = servers->front();
  CHECK(s.eresp == 3);
  CHECK(s.econ == 4);
  CHECK(s.wretr == 5);
  CHECK(s.rtime == 42);
  CHECK(s.ttime == 97);
  CHECK(s.hrsp_5xx == 2);  // the rest as before
}

TEST_CASE("the BACKEND row gives the balance algorithm and the persistence cookie's name", "[pools][stats][cookie]") {
  const std::string header = "# pxname,svname,qcur,scur,status,cookie,mode,algo,\n";
  auto sticky = parse_backend_row(header + "app,BACKEND,0,0,UP,SRV,http,roundrobin,\n", "app");
  REQUIRE(sticky.has_value());
  CHECK(sticky->algo == "roundrobin");
  CHECK(sticky->cookie == "SRV");
  auto plain = parse_backend_row(header + "www,FRONTEND,,,OPEN,,http,,\napp,BACKEND,0,0,UP,,http,leastconn,\n", "app");
  REQUIRE(plain.has_value());
  CHECK(plain->algo == "leastconn");
  CHECK(plain->cookie.empty());
  auto older = parse_backend_row("# pxname,svname,algo,\napp,BACKEND,source,\n", "app");  // no cookie column
  REQUIRE(older.has_value());
  CHECK(older->algo == "source");
  CHECK(older->cookie.empty());
  CHECK_FALSE(parse_backend_row("app,BACKEND,x\n", "app").has_value());
  auto refused = parse_backend_row("[3]: No such proxy.\n", "app");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == ErrorKind::refused);
}

TEST_CASE("show stat's lastsess and cookie: seconds since a server's last session (-1: never) and its cookie",
          "[pools][stats][sticky]") {
  auto captured = parse_show_stat(k_header + k_row_up, "app");
  REQUIRE(captured.has_value());
  CHECK((*captured)[0].last_session_s == -1);  // HAProxy 2.6.12 says -1 for a server no session went to
  CHECK((*captured)[0].cookie.empty());
  const std::string text =
      "# pxname,svname,qcur,scur,status,type,lastsess,cookie,sid,stot\n"
      "app,old-1,0,0,UP,2,7,old-1,1,9\n"
      "app,v2-1,0,0,UP,2,-1,2a2415b812d93554,1002,0\n"
      "app,v2-2,0,0,UP,2,0,,1003,4\n";
  auto servers = parse_show_stat(text, "app");
  REQUIRE(servers.has_value());
  REQUIRE(servers->size() == 3);
  CHECK((*servers)[0].last_session_s == 7);
  CHECK((*servers)[0].cookie == "old-1");
  CHECK((*servers)[1].last_session_s == -1);
  CHECK((*servers)[1].cookie == "2a2415b812d93554");
  CHECK((*servers)[2].last_session_s == 0);
  CHECK((*servers)[2].cookie.empty());
}

TEST_CASE("show table: the tables and their entries, and the entries per server id", "[pools][stats][sticky]") {
  // Captured from HAProxy 2.6.12 and 3.0.11 (3.0 adds shard=).
  const auto tables = parse_table_list("# table: app, type: ip, size:1024, used:3\n# table: other, type: string, "
                                       "size:10, used:0\n\n");
  REQUIRE(tables.size() == 2);
  CHECK(tables[0] == std::pair<std::string, std::uint64_t>{"app", 3});
  CHECK(tables[1] == std::pair<std::string, std::uint64_t>{"other", 0});
  const auto entries = parse_stick_entries(
      "# table: app, type: ip, size:1024, used:4\n"
      "0x5597639e15f0: key=127.0.0.1 use=0 exp=29991 server_id=1 server_key=app-1\n"
      "0x7f065c95ca50: key=127.0.0.2 use=0 exp=29992 shard=0 server_id=1 server_key=app-1\n"
      "0x7f065c95ca60: key=127.0.0.3 use=1 exp=10 shard=0 server_id=1003 server_key=v2-1\n"
      "0x7f065c95ca70: key=127.0.0.4 use=0 exp=29992 shard=0 gpc0=1\n\n");
  REQUIRE(entries.has_value());
  CHECK(entries->size() == 2);
  CHECK(entries->at(1) == 2);
  CHECK(entries->at(1003) == 1);
  const auto missing = parse_stick_entries("No such table\n");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == ErrorKind::refused);
}
