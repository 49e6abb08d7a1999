from chalicelib.identity.areas import AreaCodes, area_codes


def test_factory_is_cached():
    assert area_codes() is area_codes()


def test_provinces():
    areas = area_codes()
    assert areas.is_known_province("31")
    assert areas.province_name("31") == "Daerah Khusus Ibukota Jakarta"
    assert not areas.is_known_province("99")
    assert areas.province_name("99") is None
    assert len(areas.province_codes()) == 38


def test_districts_take_undotted_codes():
    areas = area_codes()
    assert areas.is_known_district("317401")
    assert areas.district_name("317401") == "Tebet"
    assert areas.is_known_district("320101")
    assert not areas.is_known_district("317499")


def test_jakarta_districts():
    districts = area_codes().jakarta_districts()
    assert len(districts) == 44
    assert ("317401", "Tebet", "Kota Administrasi Jakarta Selatan") in districts
    assert all(code.startswith("31") and len(code) == 6 for code, _, _ in districts)


def test_every_jakarta_district_has_villages():
    areas = area_codes()
    total = sum(len(areas.villages_of(code)) for code, _, _ in areas.jakarta_districts())
    assert total == 267


def test_villages():
    areas = area_codes()
    tebet = areas.villages_of("317401")
    assert ("3174011001", "Tebet Timur") in tebet
    assert areas.village("3174011001") == ("Tebet Timur", "317401")
    assert areas.village("3174019999") is None
    assert areas.is_jakarta_village("3174011001")
    assert not areas.is_jakarta_village("3201012001")
    assert areas.villages_of("320101") == []


def test_quoted_names_are_read_by_csv_rules():
    assert area_codes().district_name("352922") == 'Ra"as'


def test_can_be_built_from_rows():
    areas = AreaCodes(
        [{"code": "31", "name": "P"}],
        [{"code": "31.74", "province_code": "31", "name": "R"}],
        [{"code": "31.74.01", "regency_code": "31.74", "name": "D"}],
        [{"code": "31.74.01.1001", "district_code": "31.74.01", "name": "V"}],
    )
    assert areas.jakarta_districts() == [("317401", "D", "R")]
