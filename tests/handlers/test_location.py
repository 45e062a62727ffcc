import pytest

from handlers.location import NOT_AN_ADDRESS, NOT_IN_REGISTRY, NOT_PUBLIC, Location, locate


@pytest.mark.parametrize(
    ("source_ip", "code", "name"),
    [
        ("1.0.16.1", "JP", "Japan"),
        ("193.99.144.80", "DE", "Germany"),
        ("8.8.8.8", "US", "United States of America"),
        ("2a01:4f8::1", "DE", "Germany"),
        ("2400:cb00::1", "US", "United States of America"),
        # IPv4 written as IPv6, as some proxies report it.
        ("::ffff:1.0.16.1", "JP", "Japan"),
        (" 8.8.8.8 ", "US", "United States of America"),
    ],
)
def test_public_addresses_resolve_to_their_registered_country(source_ip, code, name):
    location = locate(source_ip)
    assert (location.country_code, location.country_name) == (code, name)
    assert location.text == f"{name} ({code})"
    assert location


@pytest.mark.parametrize(
    ("source_ip", "reason"),
    [
        ("AWS Internal", NOT_AN_ADDRESS),
        ("signin.amazonaws.com", NOT_AN_ADDRESS),
        ("", NOT_AN_ADDRESS),
        ("999.1.1.1", NOT_AN_ADDRESS),
        ("10.1.2.3", NOT_PUBLIC),
        ("172.31.0.9", NOT_PUBLIC),
        ("192.168.1.1", NOT_PUBLIC),
        ("127.0.0.1", NOT_PUBLIC),
        ("::1", NOT_PUBLIC),
        ("fe80::1", NOT_PUBLIC),
        ("fd00:ec2::254", NOT_PUBLIC),
        ("169.254.169.254", NOT_PUBLIC),
        ("100.64.0.1", NOT_PUBLIC),
        ("203.0.113.22", NOT_PUBLIC),
        ("2001:db8::1", NOT_PUBLIC),
        ("224.0.0.1", NOT_PUBLIC),
        ("0.0.0.0", NOT_PUBLIC),
    ],
)
def test_addresses_without_a_location_say_why_and_never_raise(source_ip, reason):
    location = locate(source_ip)
    assert location == Location(no_location_reason=reason)
    assert not location
    assert location.text == f"no location ({reason})"


def test_a_public_address_missing_from_the_registry_data_has_no_location(monkeypatch):
    import handlers.location as module

    monkeypatch.setattr(module, "country_code", lambda address: None)
    module.locate.cache_clear()
    try:
        assert module.locate("8.8.4.4") == Location(no_location_reason=NOT_IN_REGISTRY)
    finally:
        module.locate.cache_clear()
