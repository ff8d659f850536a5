#!/usr/bin/perl
# A tiny SMTP-like service for chkservd's tests (perl-base only, so it runs on a bare Debian):
#   tinysmtpd.pl tcp PORT PIDFILE TITLE [hang]    listen on 127.0.0.1:PORT
#   tinysmtpd.pl unix PATH PIDFILE TITLE [hang]   listen on a Unix socket
# Greets with "220 tiny ready", answers EHLO with "250 ok" and QUIT with "221 bye". With "hang"
# it accepts connections and never says a word; with "slow:N" it runs (title and pid file in place)
# N seconds before it listens, as a slow-starting daemon does. Its process title is TITLE (each
# test's own, so a leftover of another run never passes a process check).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Socket::UNIX;

my ($kind, $where, $pidfile, $title, $mode) = @ARGV;
$mode //= '';
$title //= 'tinysmtpd';
my $server;
if ($mode =~ /^slow:(\d+)$/) {
    $0 = $title;
    open(my $early, '>', "$pidfile.tmp") or die; print $early "$$\n"; close $early; rename "$pidfile.tmp", $pidfile;
    sleep $1;
}
if ($kind eq 'unix') {
    unlink $where;
    $server = IO::Socket::UNIX->new(Local => $where, Type => SOCK_STREAM, Listen => 16) or die "listen $where: $!";
} else {
    $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $where, Proto => 'tcp', Listen => 16, ReuseAddr => 1)
        or die "listen $where: $!";
}
$0 = $title;
open(my $fh, '>', "$pidfile.tmp") or die; print $fh "$$\n"; close $fh; rename "$pidfile.tmp", $pidfile;
$SIG{PIPE} = 'IGNORE';
my @held;
while (my $client = $server->accept) {
    if ($mode eq 'hang') { push @held, $client; next; }
    $client->autoflush(1);
    print $client "220 tiny ready\r\n";
    while (my $line = <$client>) {
        if ($line =~ /^QUIT/i) { print $client "221 bye\r\n"; last; }
        elsif ($line =~ /^EHLO/i) { print $client "250 ok\r\n"; }
        else { print $client "500 what\r\n"; }
    }
    close $client;
}
