namespace StatsHandler.Tests;

public class TagSetTests
{
    [Test]
    public void A_hint_never_changes_the_hash_whatever_instances_order_or_types_the_tags_use()
    {
        string method = "GET";
        string route = "/orders/{id}";
        KeyValuePair<string, object?>[] first = [new("method", method), new("route", route), new("status", 200)];
        TagSet hint = TagSet.Create(first, TagSet.HashOf(first));
        string copy = new(method.AsSpan());
        KeyValuePair<string, object?>[][] spans =
        [
            first,
            [new("method", copy), new("route", route), new("status", 200)],
            [new("status", "200"), new("route", route), new("method", method)],
            [new(new string("method".AsSpan()), method), new("route", "/other"), new("status", 404)],
            [new("method", method), new("route", route), new("status", 200L)],
            [new("method", null), new("route", route), new("extra", true)],
        ];

        foreach (KeyValuePair<string, object?>[] tags in spans)
        {
            TagSet.HashOfDistinct(tags, hint).Should().Be(TagSet.HashOfDistinct(tags), string.Join(",", tags));
            TagSet.HashOfDistinct(tags).Should().Be(TagSet.HashOf(tags), "the hot path's hash is the set's hash");
        }

        TagSet.HashOfDistinct(spans[2], hint).Should().Be(hint.Hash, "the same set in another order and with 200 as text");
        TagSet.HashOfDistinct(spans[3], hint).Should().NotBe(hint.Hash);
    }
}
