package weir.bench.nexmark;

/** Digest of a whole event, every field: port of {@code eventDigest} in benchmarks/src/nexmark/sink.ts. */
final class EventDigest {
  private EventDigest() {}

  static int of(Event e) {
    int h = Digests.start();
    if (e.person != null) {
      Person p = e.person;
      h = Digests.i(h, 0);
      h = Digests.l(h, p.id);
      h = Digests.s(h, p.name);
      h = Digests.s(h, p.emailAddress);
      h = Digests.s(h, p.creditCard);
      h = Digests.s(h, p.city);
      h = Digests.s(h, p.state);
      h = Digests.l(h, p.dateTime);
      h = Digests.s(h, p.extra);
    } else if (e.auction != null) {
      Auction a = e.auction;
      h = Digests.i(h, 1);
      h = Digests.l(h, a.id);
      h = Digests.s(h, a.itemName);
      h = Digests.s(h, a.description);
      h = Digests.l(h, a.initialBid);
      h = Digests.l(h, a.reserve);
      h = Digests.l(h, a.dateTime);
      h = Digests.l(h, a.expires);
      h = Digests.l(h, a.seller);
      h = Digests.l(h, a.category);
      h = Digests.s(h, a.extra);
    } else {
      Bid b = e.bid;
      h = Digests.i(h, 2);
      h = Digests.l(h, b.auction);
      h = Digests.l(h, b.bidder);
      h = Digests.l(h, b.price);
      h = Digests.l(h, b.dateTime);
      h = Digests.s(h, b.extra);
    }
    return Digests.end(h);
  }
}
