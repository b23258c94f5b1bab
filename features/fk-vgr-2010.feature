# language: sv
Egenskap: Försäkringskassan och Västra Götalandsregionen 2010: intygens kvalitet och de 11 miljonerna
  Som handläggare på Försäkringskassan
  vill jag att verktyget prövar delmålet för 2010 – minst 70 % av underlagen har alla fem
  obligatoriska uppgifter – per vårdenhet (villkor 1) och per försäkringscenter (villkor 2),
  och att de 11 miljonerna fördelas enligt fordelning.csv,
  så att utfallet kan förklaras intyg för intyg.

  Ett intyg håller kvalitet när diagnos, funktionsnedsättning, aktivitetsbegränsning,
  arbetsförmåga och prognos alla är "ja". Bara intyg daterade 2010 räknas. En tom uppgift är
  inte ett nej: den har inte prövats, så underlaget saknas.

  Villkor 3 är ett åtagande utan eget belopp: varje försäkringscenter ska ha en skriftlig,
  undertecknad lokal överenskommelse om finansiell samordning (kolumnen lokal_överenskommelse i
  fordelning.csv: ja för LFC1–LFC6, tom för LFC7).

  Bakgrund:
    Givet överenskommelsen "agreements/fk-vgr-2010.villkor"
    Och exempeldata från "examples/fk-vgr-2010"

  # ---- Exempeldatan ---------------------------------------------------------------------

  # VC-H har ett intyg med tom prognos; VC-I har bara intyg från 2009.
  Scenariomall: Delmålet per vårdenhet i exempeldatan
    När utfallet beräknas
    Så är utfallet för mottagare "<enhet>" och villkor "1" "<utfall>"

    Exempel:
      | enhet | utfall          |
      | VC-A  | ej uppfyllt     |
      | VC-B  | uppfyllt        |
      | VC-C  | uppfyllt        |
      | VC-D  | ej uppfyllt     |
      | VC-H  | underlag saknas |
      | VC-I  | underlag saknas |

  # LFC7 har VC-H (en tom uppgift) och VC-I (inga intyg 2010).
  Scenariomall: Delmålet per försäkringscenter i exempeldatan
    När utfallet beräknas
    Så är utfallet för mottagare "<center>" och villkor "2" "<utfall>"

    Exempel:
      | center | utfall          |
      | LFC1   | ej uppfyllt     |
      | LFC2   | uppfyllt        |
      | LFC3   | ej uppfyllt     |
      | LFC4   | uppfyllt        |
      | LFC5   | uppfyllt        |
      | LFC6   | uppfyllt        |
      | LFC7   | underlag saknas |

  # ---- Tröskeln 70 % --------------------------------------------------------------------

  # Egna intyg för VC-X i LFC1 (enheten är ensam i sitt center): <hela> med alla uppgifter,
  # <ofullständiga> där prognosen är nej.
  Scenariomall: Delmålet vid gränsen 70 %
    Givet filen "intyg.csv" med:
      | intygsid | enhet | center | datum | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
    Och följande rader läggs till "<hela>" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-X  | LFC1   | 2010-06-01 | ja      | ja                   | ja                    | ja            | ja      |
    Och följande rader läggs till "<ofullständiga>" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-X  | LFC1   | 2010-06-01 | ja      | ja                   | ja                    | ja            | nej     |
    När utfallet beräknas
    Så är utfallet för mottagare "VC-X" och villkor "1" "<utfall>"
    Och är utfallet för mottagare "LFC1" och villkor "2" "<utfall>"

    Exempel:
      | hela | ofullständiga | andel   | utfall      |
      | 699  | 301           | 69,9 %  | ej uppfyllt |
      | 700  | 300           | 70,0 %  | uppfyllt    |
      | 7    | 3             | 70 %    | uppfyllt    |
      | 2    | 1             | 66,7 %  | ej uppfyllt |
      | 0    | 5             | 0 %     | ej uppfyllt |
      | 5    | 0             | 100 %   | uppfyllt    |

  Scenario: En tom uppgift ger underlag saknas, inte ej uppfyllt
    Givet filen "intyg.csv" med:
      | intygsid | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | A1       | VC-X  | LFC1   | 2010-02-01 | ja      | ja                   | ja                    | ja            | ja      |
      | A2       | VC-X  | LFC1   | 2010-03-01 | ja      | ja                   | ja                    | ja            | ja      |
      | A3       | VC-X  | LFC1   | 2010-04-01 | ja      | ja                   | ja                    |               | ja      |
      | B1       | VC-Y  | LFC2   | 2010-04-01 | ja      | ja                   | ja                    | ja            | ja      |
    När utfallet beräknas
    Så är utfallet för mottagare "VC-X" och villkor "1" "underlag saknas"
    Och är utfallet för mottagare "LFC1" och villkor "2" "underlag saknas"
    Och är utfallet för mottagare "VC-Y" och villkor "1" "uppfyllt"
    Och är utfallet för mottagare "LFC2" och villkor "2" "uppfyllt"

  Scenario: En vårdenhet utan intyg från 2010 har inget underlag
    Givet filen "intyg.csv" med:
      | intygsid | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | A1       | VC-X  | LFC1   | 2009-12-31 | ja      | ja                   | ja                    | ja            | ja      |
      | A2       | VC-X  | LFC1   | 2011-01-01 | ja      | ja                   | ja                    | ja            | ja      |
      | B1       | VC-Y  | LFC2   | 2010-04-01 | ja      | ja                   | ja                    | ja            | ja      |
    När utfallet beräknas
    Så är utfallet för mottagare "VC-X" och villkor "1" "underlag saknas"
    Och är utfallet för mottagare "LFC1" och villkor "2" "underlag saknas"
    Och är utfallet för mottagare "LFC3" och villkor "2" "underlag saknas"
    Och är utfallet för mottagare "VC-Y" och villkor "1" "uppfyllt"

  # 7 hela och 3 ofullständiga intyg 2010 (70 %). Ett fjärde ofullständigt intyg räknas bara om
  # det är daterat 2010: då blir andelen 7/11 = 63,6 %.
  Scenariomall: Bara intyg daterade 2010 räknas
    Givet filen "intyg.csv" med:
      | intygsid | enhet | center | datum | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
    Och följande rader läggs till "7" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-X  | LFC1   | 2010-06-01 | ja      | ja                   | ja                    | ja            | ja      |
    Och följande rader läggs till "3" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-X  | LFC1   | 2010-06-01 | nej     | ja                   | ja                    | ja            | ja      |
    Och följande rader läggs till i filen "intyg.csv":
      | intygsid | enhet | center | datum   | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | X4       | VC-X  | LFC1   | <datum> | ja      | nej                  | ja                    | ja            | ja      |
    När utfallet beräknas
    Så är utfallet för mottagare "VC-X" och villkor "1" "<utfall>"

    Exempel:
      | datum      | utfall      |
      | 2009-12-31 | uppfyllt    |
      | 2010-01-01 | ej uppfyllt |
      | 2010-12-31 | ej uppfyllt |
      | 2011-01-01 | uppfyllt    |

  # VC-X 8 av 10 (80 %) och VC-Y 5 av 10 (50 %) i samma center: 13 av 20 = 65 %.
  Scenario: Centret räknas på alla sina intyg, inte på enheternas utfall
    Givet filen "intyg.csv" med:
      | intygsid | enhet | center | datum | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
    Och följande rader läggs till "8" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-X  | LFC1   | 2010-05-01 | ja      | ja                   | ja                    | ja            | ja      |
    Och följande rader läggs till "2" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-X  | LFC1   | 2010-05-01 | ja      | ja                   | nej                   | ja            | ja      |
    Och följande rader läggs till "5" gånger i filen "intyg.csv":
      | enhet | center | datum      | diagnos | funktionsnedsättning | aktivitetsbegränsning | arbetsförmåga | prognos |
      | VC-Y  | LFC1   | 2010-05-01 | ja      | ja                   | ja                    | ja            | ja      |
      | VC-Y  | LFC1   | 2010-05-01 | ja      | ja                   | ja                    | nej           | ja      |
    När utfallet beräknas
    Så är utfallet för mottagare "VC-X" och villkor "1" "uppfyllt"
    Och är utfallet för mottagare "VC-Y" och villkor "1" "ej uppfyllt"
    Och är utfallet för mottagare "LFC1" och villkor "2" "ej uppfyllt"

  # ---- De 11 miljonerna -------------------------------------------------------------------

  # Medlen är inte knutna till delmålet: även LFC1 (ej uppfyllt) får sin del.
  Scenariomall: Medlen fördelas enligt fordelning.csv
    När utfallet beräknas
    Så får mottagare "<center>" för villkor "samverkansmedel" "<medel>"
    Och får mottagare "<center>" totalt "<medel>"
    Och är kontrollen "Fördelningen mellan försäkringscentren är 11 miljoner kronor" uppfylld

    Exempel:
      | center | medel        |
      | LFC1   | 1 900 000 kr |
      | LFC2   | 1 700 000 kr |
      | LFC7   | 1 400 000 kr |

  Scenariomall: En fördelning som inte går jämnt ut på 11 miljoner stoppar beräkningen
    Givet att kolumnen "medel" för "LFC7" i filen "fordelning.csv" är "<medel>"
    När utfallet beräknas
    Så är kontrollen "Fördelningen mellan försäkringscentren är 11 miljoner kronor" inte uppfylld
    Och misslyckas beräkningen med felet "V160"
    Och felet nämner "vänster sida <summa>"

    Exempel:
      | medel   | summa         |
      | 1300000 | 10 900 000 kr |
      | 1400001 | 11 000 001 kr |

  # ---- Villkor 3: skriftlig lokal överenskommelse per försäkringscenter ----------------------

  # Ett utfall utan belopp; LFC7:s cell är tom: okänt om en överenskommelse finns, inte ett nej.
  Scenariomall: Den lokala överenskommelsen per försäkringscenter i exempeldatan
    När utfallet beräknas
    Så är utfallet för mottagare "<center>" och villkor "3" "<utfall>"
    Och saknar mottagare "<center>" belopp för villkor "3"

    Exempel:
      | center | utfall          |
      | LFC1   | uppfyllt        |
      | LFC2   | uppfyllt        |
      | LFC3   | uppfyllt        |
      | LFC4   | uppfyllt        |
      | LFC5   | uppfyllt        |
      | LFC6   | uppfyllt        |
      | LFC7   | underlag saknas |

  # I fordelning.csv är LFC1 rad 2 och LFC7 rad 8.
  Scenariomall: Svaret om den lokala överenskommelsen avgör villkor 3
    Givet att kolumnen "lokal_överenskommelse" på rad "<rad>" i filen "fordelning.csv" är "<svar>"
    När utfallet beräknas
    Så är utfallet för mottagare "<center>" och villkor "3" "<utfall>"
    Och saknar mottagare "<center>" belopp för villkor "3"

    Exempel:
      | center | rad | svar | utfall          |
      | LFC7   | 8   | ja   | uppfyllt        |
      | LFC7   | 8   | nej  | ej uppfyllt     |
      | LFC1   | 2   | nej  | ej uppfyllt     |
      | LFC1   | 2   |      | underlag saknas |

  # Medlen är inte knutna till villkor 3 (utbetalningen är `utan villkor`) och är varje centers
  # egna enligt fordelning.csv, ingen pott som delas: LFC1:s 1 900 000 kr och LFC7:s 1 400 000 kr
  # ändras inte, och inget belopp blir preliminärt av att ett annat center väntar på underlag.
  Scenario: Utan lokal överenskommelse får centret ändå sina medel, och de är inte preliminära
    Givet att kolumnen "lokal_överenskommelse" för "LFC1" i filen "fordelning.csv" är "nej"
    När utfallet beräknas
    Så är utfallet för mottagare "LFC1" och villkor "3" "ej uppfyllt"
    Och är utfallet för mottagare "LFC7" och villkor "3" "underlag saknas"
    Och får mottagare "LFC1" för villkor "samverkansmedel" "1 900 000 kr"
    Och får mottagare "LFC1" totalt "1 900 000 kr"
    Och får mottagare "LFC7" för villkor "samverkansmedel" "1 400 000 kr"
    Och säger anmärkningen för mottagare "LFC1" och villkor "samverkansmedel" inte "preliminärt"
    Och säger anmärkningen för mottagare "LFC2" och villkor "samverkansmedel" inte "preliminärt"
    Och säger förklaringen för mottagare "LFC7" och villkor "3" "fordelning.csv kan inte prövas (t.ex. rad 8: underlag saknas)"
