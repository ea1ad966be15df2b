# shellcheck shell=bash
# shellcheck disable=SC2154 # globals set by nspawn.sh
# scripts/e2e/nspawn-prometheus.sh: make e2e's step 9 (bash, sourced by
# nspawn.sh; see docs/prometheus.md):
#
#   case_prometheus  9. continuous compliance: instance A (left by step 4),
#                       powered on again as P with bin/hubsecrets in it;
#                       `hubsecrets init --install-timer` inside; Debian's
#                       prometheus-node-exporter run inside as its own user
#                       with the textfile collector on 127.0.0.1:9100; the
#                       check service started and node_exporter scraped: success
#                       1, no deny series; the cookie secret chmod-ed 0644, the
#                       service again (exit 1, still a success for systemd),
#                       scraped: the HUB012 deny series, success 1.
#
# Removes $work/A (as P) when done.

prom_file=/var/lib/prometheus/node-exporter/hubsecrets.prom
check_unit=hubsecrets-check.service

# scrape NAME OUT: node_exporter's /metrics from inside NAME's network
# namespace, the hubsecrets and textfile lines kept in OUT (all of it in
# OUT.all); waits up to 10 s for node_exporter to listen.
scrape() {
	local i
	for ((i = 0; i < 40; i++)); do
		if ct_net "$1" curl -fsS --noproxy '*' -m 5 -o "$2.all" http://127.0.0.1:9100/metrics 2>/dev/null; then
			grep -E '^(hubsecrets_|node_textfile_)' "$2.all" >"$2" || true
			return 0
		fi
		sleep 0.25
	done
	return 1
}

# run_check NAME: start the check service (a oneshot: start waits for it)
# and print "RESULT STATUS", e.g. "success 1".
run_check() {
	ct "$1" systemctl start "$check_unit" >/dev/null 2>&1 || true
	printf '%s %s\n' "$(ct_show "$1" "$check_unit" Result)" "$(ct_show "$1" "$check_unit" ExecMainStatus)"
}

case_prometheus() {
	local t p=$work/P rc out got
	[ -d "$work/A" ] || { fail "9: no instance A to reuse (step 4 failed)"; return 1; }
	step "9. continuous compliance: hubsecrets-check.timer, node_exporter's textfile collector, scraped"
	t=$(date +%s)
	mv "$work/A" "$p"
	install -m 0755 "$cli" "$p/usr/local/bin/hubsecrets"
	ct_boot P "$p"
	note "P (instance A again): systemd $(ct_wait P)"

	rc=0
	ct P /usr/local/bin/hubsecrets init --install-timer >"$E2E_LOGS/P.init.log" 2>&1 || rc=$?
	if [ "$rc" = 0 ] && grep -q 'installed and enabled hubsecrets-check.timer (hourly; metrics in /var/lib/prometheus/node-exporter/hubsecrets.prom)' "$E2E_LOGS/P.init.log"; then
		pass "P: hubsecrets init --install-timer inside the instance exits 0 and installs the timer"
	else
		fail "P: hubsecrets init --install-timer exits $rc"
		sed 's/^/      | /' "$E2E_LOGS/P.init.log"
	fi
	got="$(ct P systemctl is-enabled hubsecrets-check.timer 2>&1)/$(ct P systemctl is-active hubsecrets-check.timer 2>&1)"
	if [ "$got" = enabled/active ]; then
		pass "P: hubsecrets-check.timer is enabled and active (next: $(ct_show P hubsecrets-check.timer NextElapseUSecRealtime))"
	else
		fail "P: hubsecrets-check.timer is $got, want enabled/active"
	fi

	# Debian's node_exporter as its package runs it (user prometheus), on
	# the container's loopback only.
	ct P systemd-run --unit=e2e-node-exporter -p User=prometheus /usr/bin/prometheus-node-exporter \
		--web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory=/var/lib/prometheus/node-exporter >/dev/null 2>&1 ||
		fail "P: systemd-run prometheus-node-exporter failed"

	got=$(run_check P)
	out=$E2E_LOGS/P.scrape-clean.txt
	if [ "$got" = "success 0" ]; then pass "P: $check_unit ran: exit 0, unit result success"; else
		fail "P: $check_unit: result/status $got, want success 0"
		ct P journalctl -u "$check_unit" -o cat --no-pager -n 20 2>&1 | sed 's/^/      | /'
	fi
	if [ "$(ct P stat -c '%a %U' "$prom_file" 2>&1)" = "644 root" ]; then
		pass "P: $prom_file is 0644 root's (node_exporter's user reads it)"
	else
		fail "P: $prom_file is $(ct P stat -c '%a %U' "$prom_file" 2>&1)"
	fi
	if ! scrape P "$out"; then
		fail "P: node_exporter does not answer on 127.0.0.1:9100"
		ct P journalctl -u e2e-node-exporter -o cat --no-pager -n 20 2>&1 | sed 's/^/      | /'
	elif grep -qx 'hubsecrets_check_success 1' "$out" && grep -qx 'hubsecrets_findings{severity="deny"} 0' "$out" &&
		! grep -q '^hubsecrets_finding{.*severity="deny"}' "$out" && grep -qx 'node_textfile_scrape_error 0' "$out"; then
		pass "P: scraped from node_exporter: hubsecrets_check_success 1, no deny series, node_textfile_scrape_error 0"
	else
		fail "P: the scrape lacks success 1 / deny 0, has a deny series, or a textfile error"
		sed 's/^/      | /' "$out"
	fi
	if command -v promtool >/dev/null && ! promtool check metrics <"$p$prom_file" >"$E2E_LOGS/P.promtool.log" 2>&1; then
		fail "P: promtool check metrics rejects $prom_file"
		sed 's/^/      | /' "$E2E_LOGS/P.promtool.log"
	fi

	ct P chmod 0644 "/$cookie"
	got=$(run_check P)
	out=$E2E_LOGS/P.scrape-0644.txt
	if [ "$got" = "success 1" ]; then
		pass "P: cookie secret 0644: $check_unit exits 1 (deny) and systemd counts it a success (SuccessExitStatus=1)"
	else
		fail "P: cookie secret 0644: $check_unit result/status $got, want success 1"
		ct P journalctl -u "$check_unit" -o cat --no-pager -n 20 2>&1 | sed 's/^/      | /'
	fi
	if scrape P "$out" && grep -qx "hubsecrets_finding{id=\"HUB012\",path=\"/$cookie\",severity=\"deny\"} 1" "$out" &&
		grep -qx 'hubsecrets_check_success 1' "$out" && grep -q '^hubsecrets_findings{severity="deny"} [1-9]' "$out"; then
		pass "P: scraped again: the deny series hubsecrets_finding{id=\"HUB012\",...} 1 appeared, success 1"
	else
		fail "P: the scrape after chmod 0644 lacks the HUB012 deny series or success 1"
		sed 's/^/      | /' "$out"
	fi
	note "the scrape after chmod 0644 (hubsecrets lines):"
	grep '^hubsecrets_' "$out" | sed 's/^/    /' || true
	if ct_poweroff P; then pass "P: powered off"; else fail "P: did not power off cleanly"; fi
	discard "$p"
	note "Prometheus case checked in $(($(date +%s) - t))s"
}
