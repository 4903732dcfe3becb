package weir.bench.nexmark;

/**
 * One Nexmark event: exactly one of {@code person}, {@code auction}, {@code bid} is set, as in the
 * Nexmark Flink suite's {@code Event}. {@code dateTime} repeats the event time of the one set.
 */
public class Event {
  public Person person;
  public Auction auction;
  public Bid bid;
  public long dateTime;

  public Event() {}

  static Event of(Person p) {
    Event e = new Event();
    e.person = p;
    e.dateTime = p.dateTime;
    return e;
  }

  static Event of(Auction a) {
    Event e = new Event();
    e.auction = a;
    e.dateTime = a.dateTime;
    return e;
  }

  static Event of(Bid b) {
    Event e = new Event();
    e.bid = b;
    e.dateTime = b.dateTime;
    return e;
  }
}
