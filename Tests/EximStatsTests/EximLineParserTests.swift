import Foundation
import Testing
import EximStats
import TailWatchEngine

/// The mainlog parser on single lines: every flag, both id formats, optional pid and zone, and
/// hostile text that must never set a field.
@Suite struct EximLineParserTests {
    var parser = EximLineParser(timezone: TimeZone(identifier: "UTC")!)

    private mutating func parse(_ text: String) -> EximEvent {
        withByteLine(text) { line in parser.parse(line) }
    }

    /// Runs `check` on the arrival parsed from `text` (fields are only valid inside).
    private mutating func arrival(_ text: String, _ check: (EximArrival) -> Void) {
        withByteLine(text) { line in
            guard case .arrival(let a) = parser.parse(line) else {
                Issue.record("not an arrival: \(text)")
                return
            }
            check(a)
        }
    }

    @Test mutating func arrivalFieldsAreReadInEximsOrder() {
        arrival(#"2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= bob@bobsbikes.example H=mail.example (laptop) [203.0.113.5]:4711 P=esmtpa A=dovecot_login:bob@bobsbikes.example S=2048 id=abc@laptop T="Spring sale" from <bob@bobsbikes.example> for ann@example.org joe@example.net"#) { a in
            #expect(a.time == 1_793_610_001)
            #expect(a.messageID.string == "1vQx0a-0001Ab-7Q")
            #expect(a.sender.string == "bob@bobsbikes.example")
            #expect(a.host?.string == "mail.example (laptop)")
            #expect(a.ip?.string == "203.0.113.5")
            #expect(a.proto?.string == "esmtpa")
            #expect(a.authID?.string == "bob@bobsbikes.example")
            #expect(a.size == 2048)
            #expect(a.subject?.string == "Spring sale")
            #expect(a.recipients?.string == "ann@example.org joe@example.net")
            #expect(a.recipientCount == 2)
        }
    }

    @Test mutating func textInASubjectNeverSetsAField() {
        arrival(#"2026-11-02 09:05:10 1vQx1c-0001Ad-2K <= carol@carolcakes.example H=(phone) [192.0.2.44] P=esmtpsa A=dovecot_plain:carol@carolcakes.example S=5120 T="x\" S=999 A=dovecot_login:bob@bobsbikes.example H=evil [6.6.6.6]" from <carol@carolcakes.example> for a@b.example"#) { a in
            #expect(a.size == 5120)
            #expect(a.authID?.string == "carol@carolcakes.example")
            #expect(a.ip?.string == "192.0.2.44")
            #expect(a.recipients?.string == "a@b.example")
            #expect(a.recipientCount == 1)
        }
        // Fields that exim writes before the size but only inside a quoted subject: still not fields.
        arrival(#"2026-11-02 09:05:10 1vQx1c-0001Ad-2K <= x@y.example H=(h) [192.0.2.1] P=esmtp S=10 T="A=dovecot_login:bob@bobsbikes.example""#) { a in
            #expect(a.auth == nil)
            #expect(a.size == 10)
        }
        // A hostile Message-ID header comes after the accounting fields and is not read for them.
        arrival(#"2026-11-02 09:05:10 1vQx1c-0001Ad-2K <= x@y.example H=(h) [192.0.2.1] P=esmtp S=10 id=<a> S=999999 A=plain:bob@bobsbikes.example"#) { a in
            #expect(a.auth == nil)
            #expect(a.size == 10)
        }
        // Quoted certificate names with spaces are stepped over whole.
        arrival(#"2026-11-02 09:05:10 1vQx1c-0001Ad-2K <= x@y.example H=(h) [192.0.2.1] P=esmtps X=TLS1.3 CV=yes DN="/CN=x S=77 A=login:carol" S=12"#) { a in
            #expect(a.auth == nil)
            #expect(a.size == 12)
        }
    }

    @Test mutating func bothMessageIDFormatsOptionalPidFractionAndZone() {
        arrival("1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= someone@some.domain U=CALLER P=local-smtp S=sss") { a in
            #expect(a.messageID.string == "10HmaX-000000005vi-0000")
            #expect(a.size == 0)
            #expect(a.localUser?.string == "CALLER")
        }
        arrival("2026-11-02 10:15:00.123 +0200 [4242] 1RJ3Pa-0001AA-HC <= bob@x.example U=bob P=local S=900") { a in
            #expect(a.messageID.string == "1RJ3Pa-0001AA-HC")
            #expect(a.time == 1_793_614_500 - 7200)
            #expect(a.size == 900)
        }
    }

    @Test mutating func deliveriesFailuresAndDeferrals() {
        withByteLine("2026-11-02 09:00:02 1vQx0a-0001Ab-7Q => ann@example.org <ann@example.org> R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.org [198.51.100.7] C=\"250 OK\"") { line in
            guard case .delivery(let d, let kind) = parser.parse(line) else { Issue.record("not a delivery"); return }
            #expect(kind == .delivery)
            #expect(d.recipient.string == "ann@example.org")
            #expect(d.router?.string == "dkim_lookuphost")
            #expect(d.transport?.string == "dkim_remote_smtp")
            #expect(d.ip?.string == "198.51.100.7")
        }
        withByteLine("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@mxt1.test.ex R=others : lowest numbered MX record points to local host") { line in
            guard case .failure(let d) = parser.parse(line) else { Issue.record("not a failure"); return }
            #expect(d.router?.string == "others")
            #expect(d.error?.string == "lowest numbered MX record points to local host")
        }
        withByteLine("1999-03-02 09:44:33 10HmaY-000000005vi-0000 == CALLER@two.test.ex defer (-23): domain is held") { line in
            guard case .deferral(let d) = parser.parse(line) else { Issue.record("not a deferral"); return }
            #expect(d.recipient.string == "CALLER@two.test.ex")
            #expect(d.error?.string == "defer (-23): domain is held")
        }
        for (text, kind) in [("->", EximLineKind.additionalDelivery), (">>", .cutthroughDelivery)] {
            withByteLine("2026-11-02 09:00:02 1vQx0a-0001Ab-7Q \(text) joe@example.net R=r T=t") { line in
                guard case .delivery(_, let k) = parser.parse(line) else { Issue.record("not a delivery"); return }
                #expect(k == kind)
            }
        }
    }

    @Test mutating func linesWithNothingToStoreAreIgnoredByKind() {
        let cases: [(String, EximLineKind)] = [
            ("2026-11-02 09:00:02 1vQx0a-0001Ab-7Q Completed", .completed),
            ("2026-11-02 09:00:02 1vQx0a-0001Ab-7Q *> x@y R=r T=t", .suppressedDelivery),
            ("2026-11-02 09:00:02 1vQx0a-0001Ab-7Q Frozen (delivery error message)", .otherMessageLine),
            ("2026-11-02 10:20:00 Start queue run: pid=4300", .queueRun),
            ("2026-11-02 10:20:00 exim 4.98 daemon started: pid=1", .otherLine),
            ("  Suggested action: either install a certificate", .continuation),
            ("", .continuation),
        ]
        for (text, kind) in cases {
            let event = parse(text)
            guard case .ignored(let k) = event else {
                Issue.record("\(text) was not ignored")
                continue
            }
            #expect(k == kind, "\(text)")
        }
    }

    /// Every shape of refusal eximstats counts, and what each row keeps of it; a sender or
    /// recipient address never decides what kind of line it is.
    @Test mutating func rejectionsOfEveryKind() {
        func rejection(_ text: String) -> EximRejection? {
            withByteLine(text) { line in
                guard case .rejection(let r) = parser.parse(line) else { return nil }
                return r
            }
        }
        let temporary = rejection("2026-11-02 11:00:00 H=(x) [192.0.2.1]:4000 I=[192.0.2.10]:25 X=TLS1.2:ECDHE:256 CV=no F=<a@b.example> temporarily rejected RCPT <c@d.example>: greylisted")
        #expect(temporary?.temporary == true && temporary?.recipient?.string == "c@d.example" && temporary?.reason?.string == "greylisted")
        #expect(temporary?.ip?.string == "192.0.2.1" && temporary?.sender?.string == "a@b.example")
        let forged = rejection("2026-11-02 11:00:00 H=(x) [192.0.2.1] F=<\"temporarily \"@b.example> rejected RCPT <c@d.example>: relay not permitted")
        #expect(forged?.temporary == false)
        let afterData = withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q F=keto@spam.example H=(spam.example) [193.31.117.204] P=esmtp rejected by local_scan(): Rejected") { line -> EximRejection? in
            guard case .rejection(let r) = parser.parse(line) else { return nil }
            return r
        }
        #expect(afterData?.messageID?.string == "1vQx0a-0001Ab-7Q" && afterData?.reason?.string == "rejected by local_scan(): Rejected" && afterData?.ip?.string == "193.31.117.204")
        let sync = rejection("2026-11-02 11:00:00 SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[198.51.100.9] input=\"H=[6.6.6.6]\"")
        #expect(sync?.ip?.string == "198.51.100.9" && sync?.temporary == false)
        let dropped = rejection("2026-11-02 11:00:00 SMTP call from (helo) [203.0.113.77]:5000 dropped: too many unrecognized commands")
        #expect(dropped?.ip?.string == "203.0.113.77")
        // Not rejections: the SpamAssassin verdict, and a delivery attempt's refused connection.
        withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q SA: Action: permanently rejected message: score=18.8") { line in
            guard case .ignored(.otherMessageLine) = parser.parse(line) else { Issue.record("SA line counted"); return }
        }
        withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q aspmx.l.google.com [2a00:1450::1b] Connection refused") { line in
            guard case .ignored(.otherMessageLine) = parser.parse(line) else { Issue.record("retry line counted"); return }
        }
        // A deferral names its host inside exim's part of the error; the remote text cannot.
        withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q == slow@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<slow@example.org>: 451 H=evil [6.6.6.6]") { line in
            guard case .deferral(let d) = parser.parse(line) else { Issue.record("not a deferral"); return }
            #expect(d.host?.string == "mx.example.org" && d.ip?.string == "198.51.100.7")
            #expect(d.error?.string.hasPrefix("defer (-44) H=mx.example.org") == true)
        }
        withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q == slow@example.org R=dnslookup T=remote_smtp defer (-53): retry time not reached H=evil [6.6.6.6]") { line in
            guard case .deferral(let d) = parser.parse(line) else { Issue.record("not a deferral"); return }
            #expect(d.host == nil && d.ip == nil)
        }
        // A local delivery's recipient is the address in angle brackets; a quoted address is whole.
        withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q => bob <bob@bobsbikes.example> R=virtual_user T=dovecot_delivery") { line in
            guard case .delivery(let d, _) = parser.parse(line) else { Issue.record("not a delivery"); return }
            #expect(d.recipient.string == "bob@bobsbikes.example" && d.transport?.string == "dovecot_delivery")
        }
        withByteLine("2026-11-02 11:00:00 1vQx0a-0001Ab-7Q => \"a <evil@x.example> b\"@d.example R=r T=remote_smtp") { line in
            guard case .delivery(let d, _) = parser.parse(line) else { Issue.record("not a delivery"); return }
            #expect(d.recipient.string == "\"a <evil@x.example> b\"@d.example" && d.transport?.string == "remote_smtp")
        }
    }

    @Test mutating func rejectedRecipientsAndGarbage() {
        withByteLine("2026-11-02 11:00:00 H=(spammer) [198.18.0.66] F=<promo@spam.example> rejected RCPT <nobody@bobsbikes.example>: relay not permitted") { line in
            guard case .rejection(let r) = parser.parse(line) else { Issue.record("not a reject"); return }
            #expect(r.ip?.string == "198.18.0.66")
            #expect(r.sender?.string == "promo@spam.example")
            #expect(r.recipient?.string == "nobody@bobsbikes.example")
            #expect(r.reason?.string == "relay not permitted")
        }
        let garbage: [UInt8] = [0xFF, 0xFE, 0x01, 0x02, 0x41]
        let event = garbage.withUnsafeBufferPointer { parser.parse(ByteLine(base: $0.baseAddress!, count: $0.count)) }
        guard case .rejected(let fault) = event else {
            Issue.record("binary garbage was not rejected")
            return
        }
        #expect(fault == .notExim)
        #expect(fault.reason.description.hasPrefix("not an exim mainlog line"))
        // A line cut short anywhere never crashes and never becomes an arrival with a forged size.
        let full = "2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= bob@b.example H=(l) [203.0.113.5] P=esmtpa A=x:bob@b.example S=2048 T=\"s\""
        for cut in 0...full.utf8.count {
            _ = parse(String(decoding: Array(full.utf8.prefix(cut)), as: UTF8.self))
        }
    }

    /// An event is copied a few times per line on the hot path: with no reference inside it, a
    /// copy is a plain byte copy rather than a call per copy (see `EximLineFault`).
    @Test func anEventIsPlainData() {
        #expect(_isPOD(EximEvent.self))
        #expect(_isPOD(EximArrival.self) && _isPOD(EximDelivery.self) && _isPOD(EximRejection.self))
    }

    @Test mutating func hostileSendersHelosAndSizesFoundInReview() {
        // A line cut so that "for " ends past the fields before "rejected RCPT": no crash.
        _ = parse("2024-01-01 00:00:00 for rejected RCPT <x@y>: no")
        _ = parse("2024-01-01 00:00:00 H=(a) for rejected RCPT <v>: x)")
        // A quoted local part with spaces is one sender, not fields.
        arrival(#"2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= "x A=dovecot_login:admin@victim.example S=999999999999 y"@evil.example H=mx [198.51.100.1] P=esmtp S=1200"#) { a in
            #expect(a.auth == nil)
            #expect(a.size == 1200)
            #expect(a.sender.string == #""x A=dovecot_login:admin@victim.example S=999999999999 y"@evil.example"#)
        }
        // A junk HELO with words in it stays inside the host group up to the IP literal.
        arrival("2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= a@evil.example H=(x) A=plain:bob@victim.example S=5 (y) [198.51.100.1]:25 P=esmtp S=77") { a in
            #expect(a.auth == nil)
            #expect(a.size == 77)
            #expect(a.ip?.string == "198.51.100.1")
        }
        // Absurd sizes are not sizes (and can never overflow a sum).
        arrival("2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= a@b.example H=mx [198.51.100.1] P=esmtp S=999999999999999999") { a in
            #expect(a.size == 0)
        }
        // IPv6 literals end the host group too.
        arrival("2026-11-02 09:00:01 1vQx0a-0001Ab-7Q <= a@b.example H=mail.example (helo) [2001:db8::1]:587 P=esmtpa A=login:bob S=9") { a in
            #expect(a.ip?.string == "2001:db8::1")
            #expect(a.host?.string == "mail.example (helo)")
            #expect(a.authID?.string == "bob")
        }
    }
}
